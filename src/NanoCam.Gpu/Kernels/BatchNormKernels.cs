using ILGPU;
using ILGPU.Algorithms;

namespace NanoCam.Gpu.Kernels;

/// <summary>
/// Batch normalization (Ioffe &amp; Szegedy 2015, Alg. 1) per channel c over the N·H·W values of an [N, C, plane] view:
/// x̂ = (x − μ_c)·invStd_c, y = γ_c·x̂ + β_c, invStd_c = 1/sqrt(σ²_c + ε). Statistics: one group per channel with block reductions.
/// </summary>
internal static class BatchNormKernels
{
    private static int At(int e, int c, int channels, int plane) => (e / plane * channels + c) * plane + e % plane;

    /// <summary>Batch mean and biased variance (two passes), saved for backward; running statistics with the unbiased variance (PyTorch).</summary>
    public static void Statistics(ArrayView<float> savedMean, ArrayView<float> savedInvStd, ArrayView<float> runningMean, ArrayView<float> runningVar,
        ArrayView<float> input, int batch, int channels, int plane, float momentum, float epsilon)
    {
        var scratch = SharedMemory.Allocate<float>(BlockReduce.Threads);
        int c = Grid.IdxX, count = batch * plane;
        float sum = 0;
        for (int e = Group.IdxX; e < count; e += Group.DimX) sum += input[At(e, c, channels, plane)];
        float mean = BlockReduce.Sum(scratch, sum) / count;
        float squares = 0;
        for (int e = Group.IdxX; e < count; e += Group.DimX)
        {
            float d = input[At(e, c, channels, plane)] - mean;
            squares += d * d;
        }
        squares = BlockReduce.Sum(scratch, squares);
        if (Group.IdxX != 0) return;
        float variance = squares / count;
        savedMean[c] = mean;
        savedInvStd[c] = 1f / XMath.Sqrt(variance + epsilon);
        float unbiased = count > 1 ? squares / (count - 1) : variance;
        runningMean[c] = (1 - momentum) * runningMean[c] + momentum * mean;
        runningVar[c] = (1 - momentum) * runningVar[c] + momentum * unbiased;
    }

    /// <summary>invStd = 1/sqrt(runningVar + ε), one thread per channel (inference mode).</summary>
    public static void InverseStd(Index1D c, ArrayView<float> invStd, ArrayView<float> runningVar, float epsilon) =>
        invStd[c] = 1f / XMath.Sqrt(runningVar[c] + epsilon);

    /// <summary>y = x·(γ·invStd) + (β − μ·γ·invStd), one thread per element.</summary>
    public static void Normalize(Index1D i, ArrayView<float> output, ArrayView<float> input, ArrayView<float> gamma, ArrayView<float> beta,
        ArrayView<float> mean, ArrayView<float> invStd, int channels, int plane)
    {
        int c = i / plane % channels;
        float scale = gamma[c] * invStd[c];
        output[i] = input[i] * scale + (beta[c] - mean[c] * scale);
    }

    /// <summary>
    /// Per channel: Σ dy and Σ dy·x̂ into sums[2c], sums[2c + 1] (for the dx pass), and dGamma += Σ dy·x̂, dBeta += Σ dy when asked.
    /// </summary>
    public static void GradientSums(ArrayView<float> sums, ArrayView<float> dGamma, ArrayView<float> dBeta, ArrayView<float> dOutput,
        ArrayView<float> input, ArrayView<float> mean, ArrayView<float> invStd, int batch, int channels, int plane, int writeGamma, int writeBeta)
    {
        var scratch = SharedMemory.Allocate<float>(BlockReduce.Threads);
        int c = Grid.IdxX, count = batch * plane;
        float mu = mean[c], s = invStd[c], sumDy = 0, sumDyXhat = 0;
        for (int e = Group.IdxX; e < count; e += Group.DimX)
        {
            int at = At(e, c, channels, plane);
            sumDy += dOutput[at];
            sumDyXhat += dOutput[at] * (input[at] - mu) * s;
        }
        sumDy = BlockReduce.Sum(scratch, sumDy);
        sumDyXhat = BlockReduce.Sum(scratch, sumDyXhat);
        if (Group.IdxX != 0) return;
        sums[2 * c] = sumDy;
        sums[2 * c + 1] = sumDyXhat;
        if (writeGamma != 0) dGamma[c] += sumDyXhat;
        if (writeBeta != 0) dBeta[c] += sumDy;
    }

    /// <summary>dx += γ·invStd·(dy − mean(dy) − x̂·mean(dy·x̂)) with batch statistics; γ·invStd·dy with fixed ones.</summary>
    public static void InputGradient(Index1D i, ArrayView<float> dInput, ArrayView<float> dOutput, ArrayView<float> input, ArrayView<float> gamma,
        ArrayView<float> mean, ArrayView<float> invStd, ArrayView<float> sums, int batch, int channels, int plane, int batchStatistics)
    {
        int c = i / plane % channels;
        float s = invStd[c], scale = gamma[c] * s;
        if (batchStatistics == 0)
        {
            dInput[i] += scale * dOutput[i];
            return;
        }
        int count = batch * plane;
        float xhat = (input[i] - mean[c]) * s;
        dInput[i] += scale * (dOutput[i] - sums[2 * c] / count - xhat * (sums[2 * c + 1] / count));
    }
}
