using ILGPU;

namespace NanoCam.Gpu.Kernels;

/// <summary>Whole-tensor sums.</summary>
internal static class ReductionKernels
{
    /// <summary>output[0] = scale · Σ input, by one group: each thread sums a strided share, then a block reduction.</summary>
    public static void Sum(ArrayView<float> output, ArrayView<float> input, int length, float scale)
    {
        var scratch = SharedMemory.Allocate<float>(BlockReduce.Threads);
        float sum = 0;
        for (int i = Group.IdxX; i < length; i += Group.DimX) sum += input[i];
        sum = BlockReduce.Sum(scratch, sum);
        if (Group.IdxX == 0) output[0] = scale * sum;
    }

    /// <summary>dInput += scale · dOutput[0] everywhere.</summary>
    public static void SumBackward(Index1D i, ArrayView<float> dInput, ArrayView<float> dOutput, float scale) =>
        dInput[i] += scale * dOutput[0];
}
