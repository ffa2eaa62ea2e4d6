using ILGPU;
using ILGPU.Algorithms;

namespace NanoCam.Gpu.Kernels;

/// <summary>
/// Tree reductions across one group of <see cref="Threads"/> threads through shared memory: each thread contributes a
/// partial value, log2(Threads) halving steps combine them, every thread gets the result. The caller allocates the
/// shared scratch (Threads floats) in the kernel itself.
/// </summary>
internal static class BlockReduce
{
    public const int Threads = 128;

    public static KernelConfig Config(int groups) => new(new Index3D(groups, 1, 1), new Index3D(Threads, 1, 1));

    public static float Sum(ArrayView<float> scratch, float value)
    {
        int t = Group.IdxX;
        scratch[t] = value;
        Group.Barrier();
        for (int half = Threads / 2; half > 0; half /= 2)
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
        for (int half = Threads / 2; half > 0; half /= 2)
        {
            if (t < half) scratch[t] = XMath.Max(scratch[t], scratch[t + half]);
            Group.Barrier();
        }
        float result = scratch[0];
        Group.Barrier();
        return result;
    }
}
