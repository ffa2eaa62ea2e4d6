namespace NanoCam.Explain.Targets;

/// <summary>
/// The probability of <see cref="Index"/>, not its logit: L = p_K = softmax(y)_K, seed ∂p_K/∂y_j = p_K (δ_Kj − p_j)
/// (the softmax Jacobian's row K; pytorch-grad-cam's ClassifierOutputSoftmaxTarget).
/// </summary>
public sealed record SoftmaxTarget(int Index) : CamTarget
{
    public override bool IsClassScore => false;

    /// <summary>The target as <c>--target</c> takes it.</summary>
    public override string ToString() => $"softmax:{Index}";

    public override int ClassFor(int image, ReadOnlySpan<float> scores) => TargetChecks.Index(Index, scores.Length, "softmax: class");

    public override void Seed(int image, ReadOnlySpan<float> scores, Span<float> seed)
    {
        int k = ClassFor(image, scores);
        float max = float.NegativeInfinity;
        foreach (var s in scores) max = MathF.Max(max, s);
        double total = 0;
        for (int j = 0; j < scores.Length; j++) total += Math.Exp(scores[j] - max);
        float pk = (float)(Math.Exp(scores[k] - max) / total);
        for (int j = 0; j < scores.Length; j++) seed[j] = -pk * (float)(Math.Exp(scores[j] - max) / total);
        seed[k] += pk;
    }
}
