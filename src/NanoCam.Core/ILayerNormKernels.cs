namespace NanoCam;

/// <summary>
/// An optional capability of a backend (checked with <c>kernels is ILayerNormKernels</c>): layer normalization of each
/// contiguous row in one kernel, forward and backward (<see cref="Ops.LayerNormNode"/>). Callers without it compose it
/// from tape ops (mean, centre, variance, scale) instead.
/// </summary>
public interface ILayerNormKernels
{
    /// <summary>
    /// For each of the input.Size / size rows of <paramref name="size"/> contiguous elements:
    /// y = γ ⊙ (x − μ)·(1/√(σ² + ε)) + β, μ the row's mean and σ² the mean of its centred squares (Ba et al. 2016);
    /// <paramref name="scale"/> (γ) and <paramref name="bias"/> (β, none: 0) hold <paramref name="size"/> values each.
    /// </summary>
    void LayerNormForward(Tensor output, Tensor input, Tensor scale, Tensor? bias, int size, float epsilon);

    /// <summary>
    /// The backward of <see cref="LayerNormForward"/> from its input (the row statistics recomputed as the forward does),
    /// adding into each gradient that is not null: with x̂ = (x − μ)·s, s = 1/√(σ² + ε), g = ∂L/∂y and n = size,
    /// ∂L/∂x = s·(γ⊙g − mean(γ⊙g) − x̂·mean(γ⊙g⊙x̂)) per row, ∂L/∂γ = Σ_rows g⊙x̂, ∂L/∂β = Σ_rows g.
    /// </summary>
    void LayerNormBackward(Tensor? dInput, Tensor? dScale, Tensor? dBias, Tensor dOutput, Tensor input, Tensor scale, int size, float epsilon);
}
