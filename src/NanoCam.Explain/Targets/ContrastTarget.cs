namespace NanoCam.Explain.Targets;

/// <summary>
/// Why <see cref="Index"/> rather than <see cref="Against"/>: L = y^K − y^J, seed ∂L/∂y = e_K − e_J (the contrastive
/// target of Grad-CAM's counterfactual discussion, pytorch-grad-cam's ClassifierOutputTarget difference).
/// </summary>
public sealed record ContrastTarget(int Index, int Against) : CamTarget
{
    public override bool IsClassScore => false;

    /// <summary>The target as <c>--target</c> takes it.</summary>
    public override string ToString() => $"contrast:{Index},{Against}";

    public override int ClassFor(int image, ReadOnlySpan<float> scores)
    {
        TargetChecks.Index(Index, scores.Length, "contrast: class");
        TargetChecks.Index(Against, scores.Length, "contrast: class");
        return Index;
    }

    public override void Seed(int image, ReadOnlySpan<float> scores, Span<float> seed)
    {
        seed.Clear();
        seed[ClassFor(image, scores)] += 1f;
        seed[Against] -= 1f;
    }
}
