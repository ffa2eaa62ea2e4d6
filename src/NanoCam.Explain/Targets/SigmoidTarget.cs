namespace NanoCam.Explain.Targets;

/// <summary>
/// One output of a multi-label classifier through its sigmoid: L = σ(y_K), seed ∂L/∂y_K = σ(y_K)(1 − σ(y_K)).
/// </summary>
public sealed record SigmoidTarget(int Index) : CamTarget
{
    public override bool IsClassScore => false;

    /// <summary>The target as <c>--target</c> takes it.</summary>
    public override string ToString() => $"sigmoid:{Index}";

    public override int ClassFor(int image, ReadOnlySpan<float> scores) => TargetChecks.Index(Index, scores.Length, "sigmoid: output");

    public override void Seed(int image, ReadOnlySpan<float> scores, Span<float> seed)
    {
        int k = ClassFor(image, scores);
        float sigma = 1f / (1f + MathF.Exp(-scores[k]));
        seed.Clear();
        seed[k] = sigma * (1f - sigma);
    }
}
