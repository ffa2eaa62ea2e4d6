namespace NanoCam.Explain.Targets;

/// <summary>
/// A semantic segmentation network's class <see cref="Index"/> over a region: L = Σ_p m_p · y_{K,p}, with m the pixels
/// where the model predicts K (argmax over classes) or a given <see cref="Mask"/> (pytorch-grad-cam's
/// SemanticSegmentationTarget). <see cref="OutputDims"/> is one image's output [classes, H, W].
/// </summary>
public sealed record SegmentationTarget(int Index, IReadOnlyList<int> OutputDims, float[]? Mask = null) : CamTarget
{
    public override bool IsClassScore => false;

    /// <summary>The target as <c>--target</c> takes it.</summary>
    public override string ToString() => $"segmentation:{Index}{(Mask is null ? "" : ",mask")}";

    public override int ClassFor(int image, ReadOnlySpan<float> scores)
    {
        var (classes, plane) = Layout(scores.Length);
        return TargetChecks.Index(Index, classes, "segmentation: class");
    }

    public override void Seed(int image, ReadOnlySpan<float> scores, Span<float> seed)
    {
        var (classes, plane) = Layout(scores.Length);
        TargetChecks.Index(Index, classes, "segmentation: class");
        seed.Clear();
        var region = seed.Slice(Index * plane, plane);
        if (Mask is not null)
        {
            Mask.CopyTo(region);
            return;
        }
        // m_p = [argmax_k y_{k,p} = K], the first class on ties.
        for (int p = 0; p < plane; p++)
        {
            int best = 0;
            for (int k = 1; k < classes; k++) if (scores[k * plane + p] > scores[best * plane + p]) best = k;
            region[p] = best == Index ? 1f : 0f;
        }
    }

    private (int Classes, int Plane) Layout(int length)
    {
        if (OutputDims.Count != 3)
            throw new ArgumentException($"segmentation needs an output [N, classes, H, W]; this model's output is [N, {string.Join(", ", OutputDims)}]");
        int classes = OutputDims[0], plane = OutputDims[1] * OutputDims[2];
        if (classes * plane != length)
            throw new ArgumentException($"segmentation: the model's output has {length} values per image, not {TargetChecks.Shape(OutputDims)}");
        if (Mask is not null && Mask.Length != plane)
            throw new ArgumentException($"segmentation: the mask has {Mask.Length} pixels, the model's output maps are {OutputDims[1]}×{OutputDims[2]} ({plane})");
        return (classes, plane);
    }
}
