namespace NanoCam.Explain.Targets;

/// <summary>
/// A binary classifier with one logit y (positive class when y &gt; 0): L = y for the positive class, −y for the
/// negative one (pytorch-grad-cam's BinaryClassifierOutputTarget). The model must have exactly one output.
/// </summary>
public sealed record BinaryTarget(bool Positive = true) : CamTarget
{
    public override bool IsClassScore => false;

    /// <summary>The target as <c>--target</c> takes it.</summary>
    public override string ToString() => Positive ? "binary" : "binary:0";

    public override int ClassFor(int image, ReadOnlySpan<float> scores) =>
        scores.Length == 1 ? (Positive ? 1 : 0)
        : throw new ArgumentException($"binary: the model has {scores.Length} outputs, a binary classifier has one logit (use class:K or sigmoid:K)");

    public override void Seed(int image, ReadOnlySpan<float> scores, Span<float> seed)
    {
        ClassFor(image, scores);
        seed[0] = Positive ? 1f : -1f;
    }
}
