namespace NanoCam;

/// <summary>
/// An optional capability of a backend (checked with <c>kernels is ILayerNormKernels</c>): layer normalization of each
/// contiguous row in one kernel, for passes that need no gradient. Callers without it, and every pass that records
/// gradients, compose it from tape ops (mean, centre, variance, scale) instead.
/// </summary>
public interface ILayerNormKernels
{
    /// <summary>
    /// For each of the input.Size / size rows of <paramref name="size"/> contiguous elements:
    /// y = γ ⊙ (x − μ)·(1/√(σ² + ε)) + β, μ the row's mean and σ² the mean of its centred squares (Ba et al. 2016);
    /// <paramref name="scale"/> (γ) and <paramref name="bias"/> (β, none: 0) hold <paramref name="size"/> values each.
    /// </summary>
    void LayerNormForward(Tensor output, Tensor input, Tensor scale, Tensor? bias, int size, float epsilon);
}
