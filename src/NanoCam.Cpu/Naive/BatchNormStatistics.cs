namespace NanoCam.Cpu.Naive;

/// <summary>
/// What both CPU batch-norm kernels (naive and SIMD) record per channel once they have summed its values: the saved
/// μ and invStd = 1/√(σ² + ε) for the backward pass, and the running statistics; and invStd of the running variance
/// for inference. They differ only in how they sum.
/// </summary>
internal static class BatchNormStatistics
{
    /// <summary>
    /// Channel <paramref name="c"/> with mean μ and <paramref name="squares"/> = Σ(x − μ)² over <paramref name="count"/>
    /// values: σ² = squares / count; the running mean and variance move toward μ and the unbiased variance
    /// squares / (count − 1), as PyTorch does.
    /// </summary>
    public static void Record(int c, double mean, double squares, int count, Tensor savedMean, Tensor savedInvStd,
        Tensor runningMean, Tensor runningVar, float momentum, float epsilon)
    {
        double variance = squares / count;
        savedMean.Span[c] = (float)mean;
        savedInvStd.Span[c] = (float)(1 / Math.Sqrt(variance + epsilon));
        double unbiased = count > 1 ? squares / (count - 1) : variance;
        runningMean.Span[c] = (float)((1 - momentum) * runningMean.Span[c] + momentum * mean);
        runningVar.Span[c] = (float)((1 - momentum) * runningVar.Span[c] + momentum * unbiased);
    }

    /// <summary>invStd_c = 1/√(σ²_c + ε) of the running variance, for every channel (inference).</summary>
    public static void InverseStd(Tensor savedInvStd, Tensor runningVar, int channels, float epsilon)
    {
        for (int c = 0; c < channels; c++) savedInvStd.Span[c] = 1f / MathF.Sqrt(runningVar.Span[c] + epsilon);
    }
}
