namespace NanoCam.Explain.Methods;

/// <summary>How FEM weighs the channels it keeps by the k-sigma rule.</summary>
public enum FemWeighting
{
    /// <summary>w_k = the fraction of positions above the threshold, map = Σ_k w_k·A^k (pytorch-grad-cam's FEM; the default).</summary>
    ExceedingFraction,

    /// <summary>w_k = μ_k, map = Σ_k μ_k·M^k: the binary masks weighted by the channel means (the paper, Xplique's FEM).</summary>
    ChannelMean,
}

/// <summary>
/// FEM, the Feature Explanation Method (Fuad et al. 2020, IPTA; Bourroux et al. 2022): each channel keeps only its
/// unusually strong responses by the k-sigma rule, the mask M^k_ij = 1[A^k_ij &gt; μ_k + k·σ_k] (μ_k, σ_k the spatial
/// mean and population standard deviation of A^k). By default (as pytorch-grad-cam) the channel weight is the fraction of
/// the channel's positions that pass, w_k = (1/Z) Σ_ij M^k_ij, and map = Σ_k w_k·A^k; with
/// <see cref="FemWeighting.ChannelMean"/> (the paper) the masks are summed weighted by the channel means, map = Σ_k μ_k·M^k.
/// Class-agnostic, no gradient; k = 2 by default.
/// </summary>
public sealed class Fem(float sigmas = 2f, FemWeighting weighting = FemWeighting.ExceedingFraction) : CamMethod
{
    public override string Name => "fem";
    public override bool UsesGradients => false;
    public override bool ReadsClassScore => false;

    /// <summary>k of the k-sigma rule: a position counts when its activation exceeds the channel's mean by k standard deviations.</summary>
    public float Sigmas { get; } = float.IsFinite(sigmas) && sigmas >= 0 ? sigmas
        : throw new ArgumentOutOfRangeException(nameof(sigmas), sigmas, "k must be 0 or a positive number");

    /// <summary>What the kept channels are weighted by, and what is summed (activations or masks).</summary>
    public FemWeighting Weighting { get; } = weighting;

    /// <summary>w_k: the fraction of A^k above μ_k + k·σ_k, or μ_k (<see cref="FemWeighting.ChannelMean"/>).</summary>
    public override void ChannelWeights(CamContext context, Span<float> weights)
    {
        var c = context.Capture;
        for (int n = 0; n < c.Batch; n++)
            for (int k = 0; k < c.Channels; k++)
            {
                var a = c.ActivationPlane(n, k);
                var (mean, threshold) = Threshold(a);
                if (Weighting == FemWeighting.ChannelMean) weights[n * c.Channels + k] = (float)mean;
                else
                {
                    int passing = 0;
                    foreach (var v in a) if (v > threshold) passing++;
                    weights[n * c.Channels + k] = (float)passing / a.Length;
                }
            }
    }

    /// <summary>Σ_k w_k·A^k, or Σ_k w_k·1[A^k &gt; μ_k + k·σ_k] (<see cref="FemWeighting.ChannelMean"/>).</summary>
    public override void Combine(CamContext context, int n, ReadOnlySpan<float> weights, Span<float> map)
    {
        if (Weighting == FemWeighting.ExceedingFraction)
        {
            base.Combine(context, n, weights, map);
            return;
        }
        var c = context.Capture;
        map.Clear();
        for (int k = 0; k < c.Channels; k++)
        {
            var a = c.ActivationPlane(n, k);
            var (_, threshold) = Threshold(a);
            for (int p = 0; p < map.Length; p++)
                if (a[p] > threshold) map[p] += weights[k];
        }
    }

    /// <summary>The plane's mean μ and the k-sigma threshold μ + k·σ (σ the population standard deviation).</summary>
    private (double Mean, double Threshold) Threshold(ReadOnlySpan<float> plane)
    {
        double mean = 0;
        foreach (var v in plane) mean += v;
        mean /= plane.Length;
        double variance = 0;
        foreach (var v in plane) variance += (v - mean) * (v - mean);
        return (mean, mean + Sigmas * Math.Sqrt(variance / plane.Length));
    }
}
