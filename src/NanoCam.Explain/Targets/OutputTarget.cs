namespace NanoCam.Explain.Targets;

/// <summary>
/// Any single element of the model's output, by its index in the output flattened after the batch axis (a regression
/// output, one pixel of a segmentation map, …): L = y_I.
/// </summary>
public sealed record OutputTarget(int Index) : CamTarget
{
    /// <summary>The target as <c>--target</c> takes it.</summary>
    public override string ToString() => $"output:{Index}";

    public override int ClassFor(int image, ReadOnlySpan<float> scores) => TargetChecks.Index(Index, scores.Length, "output: element");

    public override void Seed(int image, ReadOnlySpan<float> scores, Span<float> seed)
    {
        seed.Clear();
        seed[ClassFor(image, scores)] = 1f;
    }
}
