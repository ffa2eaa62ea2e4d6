using ILGPU;
using ILGPU.Algorithms;

namespace NanoCam.Gpu.Kernels;

/// <summary>
/// Tree reductions across one group (a power of two, at most <see cref="Threads"/> threads) through shared memory:
/// each thread contributes a partial value, log2(group size) halving steps combine them, every thread gets the result.
/// The caller allocates the shared scratch (Threads floats) in the kernel itself and strides its loops by Group.DimX.
/// </summary>
internal static class BlockReduce
{
    public const int Threads = 128;

    /// <summary>The largest power of two ≤ min(Threads, the accelerator's group limit).</summary>
    public static int GroupSize(int maxThreadsPerGroup)
    {
        int size = 1;
        while (size * 2 <= Math.Min(Threads, maxThreadsPerGroup)) size *= 2;
        return size;
    }

    public static KernelConfig Config(int groups, int groupSize) => new(new Index3D(groups, 1, 1), new Index3D(groupSize, 1, 1));

    public static float Sum(ArrayView<float> scratch, float value)
    {
        int t = Group.IdxX;
        scratch[t] = value;
        Group.Barrier();
        for (int half = Group.DimX / 2; half > 0; half /= 2)
        {
            if (t < half) scratch[t] += scratch[t + half];
            Group.Barrier();
        }
        float result = scratch[0];
        Group.Barrier(); // the scratch is free again before anyone reuses it
        return result;
    }

    /// <summary>The max (or min) across the group, NaN if any thread's value is NaN (unlike <see cref="Max"/>, which follows XMath.Max).</summary>
    public static float Extreme(ArrayView<float> scratch, float value, bool max)
    {
        int t = Group.IdxX;
        scratch[t] = value;
        Group.Barrier();
        for (int half = Group.DimX / 2; half > 0; half /= 2)
        {
            if (t < half) scratch[t] = Pick(scratch[t], scratch[t + half], max);
            Group.Barrier();
        }
        float result = scratch[0];
        Group.Barrier();
        return result;
    }

    /// <summary>The larger (or smaller) of a running extreme and a new value; a NaN on either side wins.</summary>
    public static float Pick(float extreme, float value, bool max) =>
        float.IsNaN(extreme) ? extreme : float.IsNaN(value) ? value : max ? (value > extreme ? value : extreme) : (value < extreme ? value : extreme);

    public static float Max(ArrayView<float> scratch, float value)
    {
        int t = Group.IdxX;
        scratch[t] = value;
        Group.Barrier();
        for (int half = Group.DimX / 2; half > 0; half /= 2)
        {
            if (t < half) scratch[t] = XMath.Max(scratch[t], scratch[t + half]);
            Group.Barrier();
        }
        float result = scratch[0];
        Group.Barrier();
        return result;
    }
}
