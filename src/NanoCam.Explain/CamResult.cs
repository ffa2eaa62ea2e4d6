namespace NanoCam.Explain;

/// <summary>
/// Every intermediate of one CAM-family explanation of a batch, so a reader (or the walk-through page) sees the math:
/// the capture (A^k, ∂y^c/∂A^k), the channel weights (w_k^c or α_k^c) when the method has them, the weighted sum
/// before and after ReLU at the layer's resolution, the bilinear upsampling to the input, and the normalized map.
/// </summary>
public sealed record CamResult(
    string Method,
    LayerCapture Capture,
    float[]? ChannelWeights,
    float[] WeightedSum,
    float[] Map,
    float[] Upsampled,
    float[] Normalized,
    int InputHeight,
    int InputWidth,
    bool[] FlatMaps)
{
    public int Batch => Capture.Batch;

    /// <summary>Σ_k weight·A^k before ReLU, image n, [h, w].</summary>
    public ReadOnlySpan<float> WeightedSumOf(int n) => WeightedSum.AsSpan(n * Capture.Plane, Capture.Plane);

    /// <summary>ReLU(Σ_k weight·A^k), image n, [h, w] — the raw (unnormalized) map.</summary>
    public ReadOnlySpan<float> MapOf(int n) => Map.AsSpan(n * Capture.Plane, Capture.Plane);

    /// <summary>The raw map bilinearly upsampled to the input resolution, [H, W].</summary>
    public ReadOnlySpan<float> UpsampledOf(int n) => Upsampled.AsSpan(n * InputHeight * InputWidth, InputHeight * InputWidth);

    /// <summary>The upsampled map min–max scaled to [0, 1] (all zeros for a flat map), [H, W].</summary>
    public ReadOnlySpan<float> NormalizedOf(int n) => Normalized.AsSpan(n * InputHeight * InputWidth, InputHeight * InputWidth);

    /// <summary>Channel weights of image n (w_k^c, α_k^c, …), or empty for methods that weight per position.</summary>
    public ReadOnlySpan<float> ChannelWeightsOf(int n) =>
        ChannelWeights is null ? [] : ChannelWeights.AsSpan(n * Capture.Channels, Capture.Channels);
}
