namespace NanoCam.Explain.Methods;

/// <summary>
/// Finer-CAM (Zhang et al. 2025, arXiv 2501.11309): Grad-CAM of a score that compares the target class c with the classes
/// most similar to it, so that the map keeps what tells c apart from them. The similar classes J are the
/// <see cref="Compared"/> classes whose logits lie closest to y^c (ranks 1, 2, 3 of |y^j − y^c|, as pytorch-grad-cam's
/// default comparison_categories), weighted by their softmax probabilities p_j:
/// S = Σ_{j∈J} p_j (y^c − α·y^j) / Σ_{j∈J} p_j (see <see cref="FinerTarget"/>). α = 0 gives S = y^c: plain Grad-CAM.
/// </summary>
public sealed class FinerCam(float alpha = 1f, int compared = 3) : GradCam
{
    public override string Name => "finercam";

    /// <summary>Its score compares the target class with the classes nearest it, so the target must be one class.</summary>
    public override bool ReadsClassScore => true;

    /// <summary>α, how much of the similar classes' scores is taken away (pytorch-grad-cam's default, 1).</summary>
    public float Alpha { get; } = float.IsFinite(alpha) && alpha >= 0 ? alpha
        : throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be 0 or a positive number");

    /// <summary>How many similar classes the target is compared with (fewer when the model has fewer other classes).</summary>
    public int Compared { get; } = compared >= 1 ? compared
        : throw new ArgumentOutOfRangeException(nameof(compared), compared, "Finer-CAM compares with at least 1 class");

    public override LayerCapture Capture(CamExplainer explainer, Tensor input, string layer, CamTarget target) =>
        explainer.Capture(input, layer, new FinerTarget(target, Alpha, Compared), withGradients: true, GradientSign);
}

/// <summary>
/// Finer-CAM's score of one image, S = Σ_{j∈J} p_j (y^c − α·y^j) / Σ_{j∈J} p_j, with c the class <paramref name="Inner"/>
/// picks, J the <paramref name="Compared"/> other classes of logits nearest y^c (ties: the lower index first) and p the
/// softmax of the logits. Its gradient, through the probabilities too (as pytorch-grad-cam's FinerWeightedTarget, which does
/// not detach them): with d_j = y^c − α·y^j and W = Σ_{j∈J} p_j, ∂S/∂y^m = δ_mc + 1[m∈J]·(p_m/W)·(d_m − S − α).
/// </summary>
public sealed record FinerTarget(CamTarget Inner, float Alpha, int Compared) : CamTarget
{
    public override int ClassFor(int image, ReadOnlySpan<float> scores) => Inner.ClassFor(image, scores);

    public override void Seed(int image, ReadOnlySpan<float> scores, Span<float> seed)
    {
        int target = ClassFor(image, scores);
        var similar = SimilarClasses(scores, target, Compared);
        var probabilities = new float[scores.Length];
        MapOps.Softmax(scores, probabilities);
        double weightSum = 0, weighted = 0;
        foreach (var j in similar)
        {
            weightSum += probabilities[j];
            weighted += probabilities[j] * (scores[target] - (double)Alpha * scores[j]);
        }
        seed.Clear();
        seed[target] = 1f;
        if (!(weightSum > 0)) return;
        double score = weighted / weightSum;
        foreach (var j in similar)
        {
            double difference = scores[target] - (double)Alpha * scores[j];
            seed[j] += (float)(probabilities[j] / weightSum * (difference - score - Alpha));
        }
    }

    /// <summary>S itself for one image's logits (what <see cref="Seed"/> differentiates).</summary>
    public float Score(int image, ReadOnlySpan<float> scores)
    {
        int target = ClassFor(image, scores);
        var probabilities = new float[scores.Length];
        MapOps.Softmax(scores, probabilities);
        double weightSum = 0, weighted = 0;
        foreach (var j in SimilarClasses(scores, target, Compared))
        {
            weightSum += probabilities[j];
            weighted += probabilities[j] * (scores[target] - (double)Alpha * scores[j]);
        }
        return weightSum > 0 ? (float)(weighted / weightSum) : scores[target];
    }

    /// <summary>The <paramref name="count"/> classes other than <paramref name="target"/> whose logits are nearest its logit.</summary>
    public static int[] SimilarClasses(ReadOnlySpan<float> scores, int target, int count)
    {
        var distances = new float[scores.Length];
        for (int j = 0; j < scores.Length; j++) distances[j] = MathF.Abs(scores[j] - scores[target]);
        return Enumerable.Range(0, scores.Length).Where(j => j != target)
            .OrderBy(j => distances[j]).ThenBy(j => j).Take(count).ToArray();
    }
}
