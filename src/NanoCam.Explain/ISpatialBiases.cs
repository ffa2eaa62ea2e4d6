namespace NanoCam.Explain;

/// <summary>
/// A model that can list the layers adding a per-channel bias to a spatial output — the bias terms of FullGrad
/// (Srinivas &amp; Fleuret 2019, eq. 7). Optional beside <see cref="IExplainable"/>.
/// </summary>
public interface ISpatialBiases
{
    /// <summary>
    /// Every layer (by its published name) whose output Z [N, K, h, w] contains a bias b [K], in forward order: a 2-D
    /// convolution's own bias, and batch normalization's β − μ·γ/√(σ² + ε) (its output is γ/√(σ² + ε)·x + that).
    /// </summary>
    IReadOnlyList<LayerBias> SpatialBiases { get; }
}

/// <summary>The bias b [K] added to every position of layer <paramref name="Layer"/>'s output.</summary>
public sealed record LayerBias(string Layer, float[] Bias);
