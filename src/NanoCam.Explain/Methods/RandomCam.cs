namespace NanoCam.Explain.Methods;

/// <summary>
/// A random baseline for sanity checks (Adebayo et al. 2018): channel weights drawn uniformly from [−1, 1] by
/// <c>new Random(Seed)</c>, image after image, so a seed always gives the same map. A method that scores no better
/// than this on a metric explains nothing.
/// </summary>
public sealed class RandomCam(int seed = 0) : CamMethod
{
    public override string Name => "random";
    public override bool UsesGradients => false;
    public override bool ReadsClassScore => false;

    public int Seed { get; } = seed;

    public override void ChannelWeights(CamContext context, Span<float> weights)
    {
        var rng = new Random(Seed);
        for (int i = 0; i < weights.Length; i++) weights[i] = (float)(2.0 * rng.NextDouble() - 1.0);
    }
}
