using ILGPU;

namespace NanoCam.Gpu.Kernels;

/// <summary>Concat and dropout: copies and masks, one thread per input element.</summary>
internal static class LayoutKernels
{
    // Concat sees both tensors as [outer, block]; the input's block sits at `start` inside each output block.

    public static void ConcatForward(Index1D i, ArrayView<float> output, ArrayView<float> input, int inputBlock, int outputBlock, int start)
    {
        int o = i / inputBlock;
        output[o * outputBlock + start + i - o * inputBlock] = input[i];
    }

    public static void ConcatBackward(Index1D i, ArrayView<float> dInput, ArrayView<float> dOutput, int inputBlock, int outputBlock, int start)
    {
        int o = i / inputBlock;
        dInput[i] += dOutput[o * outputBlock + start + i - o * inputBlock];
    }

    /// <summary>Inverted dropout with the counter-based hash every backend shares: mask = [u(seed, i) ≥ p]/(1 − p).</summary>
    public static void Dropout(Index1D i, ArrayView<float> output, ArrayView<float> mask, ArrayView<float> input, float probability, float keepScale, ulong seed)
    {
        float m = CounterRng.Uniform(seed, (ulong)(int)i) >= probability ? keepScale : 0f;
        mask[i] = m;
        output[i] = input[i] * m;
    }
}
