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
