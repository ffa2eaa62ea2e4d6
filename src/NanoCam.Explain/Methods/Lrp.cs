using NanoCam.Explain.Relevance;

namespace NanoCam.Explain.Methods;

/// <summary>
/// Layer-wise Relevance Propagation (Bach et al. 2015; the rules of Montavon et al. 2019, Sec. 10.2–10.3): the target's
/// score R^(L) = y^c is redistributed layer by layer down to the pixels, Σ_i R_i ≈ y^c, by the backward rules of
/// <see cref="LrpPass"/> installed on the tape for this pass. Every rule is linear in the relevance it receives, so the pass
/// runs from the gradient's one-hot seed and the result is scaled by y^c. The attributions are R [N, C, H, W]; the map is
/// Σ_c R_c, signed (negative: evidence against the class).
/// </summary>
public sealed class Lrp(LrpSettings? settings = null) : InputAttribution
{
    /// <summary>The rule and its parameters.</summary>
    public LrpSettings Settings { get; } = settings ?? new LrpSettings();

    public override string Name => "lrp";

    public override AttributionResult Explain(CamExplainer explainer, Tensor input, CamTarget target)
    {
        var passes = new List<LrpPass>();
        var capture = explainer.CaptureAtInput(input, target, configure: tape => passes.Add(LrpPass.Install(tape, Settings)));
        if (passes.Any(pass => !pass.Planned))
            throw new NotSupportedException($"lrp: no operation with a relevance rule ({string.Join(", ", LrpPass.Kinds)}) lies between the scores and the image");
        var relevance = capture.Gradients!;
        int size = relevance.Length / capture.Batch;
        for (int n = 0; n < capture.Batch; n++)
        {
            float score = capture.Scores[n * capture.Classes + capture.TargetClasses[n]];
            foreach (ref var r in relevance.AsSpan(n * size, size)) r *= score;
        }
        return new AttributionResult(relevance, capture.Batch, capture.Channels, capture.Height, capture.Width, capture.TargetClasses);
    }

    /// <summary>Σ_c R_c at every pixel.</summary>
    public override float[] MapOf(AttributionResult result, int n) => ChannelSum(result, n, absolute: false);
}
