namespace NanoCam.Explain.Methods;

/// <summary>
/// FEM, the Feature Explanation Method (Fuad et al. 2020, IPTA; Bourroux et al. 2022): each channel keeps only its
/// unusually strong responses by the k-sigma rule, the mask M^k_ij = 1[A^k_ij &gt; μ_k + k·σ_k] (μ_k, σ_k the spatial
/// mean and population standard deviation of A^k), and the masks are summed weighted by the channel means,
/// map = Σ_k μ_k·M^k. Class-agnostic, no gradient; k = 2 by default. pytorch-grad-cam's FEM weighs differently (see
/// docs/pytorch-grad-cam-parity.md).
/// </summary>
public sealed class Fem(float sigmas = 2f) : CamMethod
{
    public override string Name => "fem";
    public override bool UsesGradients => false;

    /// <summary>k of the k-sigma rule: a position counts when its activation exceeds the channel's mean by k standard deviations.</summary>
    public float Sigmas { get; } = float.IsFinite(sigmas) && sigmas >= 0 ? sigmas
        : throw new ArgumentOutOfRangeException(nameof(sigmas), sigmas, "k must be 0 or a positive number");

    /// <summary>w_k = μ_k, the spatial mean of A^k.</summary>
    public override void ChannelWeights(CamContext context, Span<float> weights)
    {
        var c = context.Capture;
        for (int n = 0; n < c.Batch; n++)
            for (int k = 0; k < c.Channels; k++) weights[n * c.Channels + k] = (float)Statistics(c.ActivationPlane(n, k)).Mean;
    }

    /// <summary>map = Σ_k w_k·1[A^k &gt; μ_k + k·σ_k].</summary>
    public override void Combine(CamContext context, int n, ReadOnlySpan<float> weights, Span<float> map)
    {
        var c = context.Capture;
        map.Clear();
        for (int k = 0; k < c.Channels; k++)
        {
            var a = c.ActivationPlane(n, k);
            var (mean, deviation) = Statistics(a);
            double threshold = mean + Sigmas * deviation;
            for (int p = 0; p < map.Length; p++)
                if (a[p] > threshold) map[p] += weights[k];
        }
    }

    /// <summary>The mean and population standard deviation of one plane.</summary>
    private static (double Mean, double Deviation) Statistics(ReadOnlySpan<float> plane)
    {
        double mean = 0;
        foreach (var v in plane) mean += v;
        mean /= plane.Length;
        double variance = 0;
        foreach (var v in plane) variance += (v - mean) * (v - mean);
        return (mean, Math.Sqrt(variance / plane.Length));
    }
}
