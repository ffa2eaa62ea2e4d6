namespace NanoCam.Explain;

/// <summary>What to explain for each image of a batch: a fixed class, the k-th best prediction, or a score function.</summary>
public abstract record CamTarget
{
    /// <summary>The class index for image n given its scores.</summary>
    public abstract int ClassFor(int image, ReadOnlySpan<float> scores);

    /// <summary>Seed ∂L/∂y for image n: the one-hot of its class (L = y^c), unless a score function says otherwise.</summary>
    public virtual void Seed(int image, ReadOnlySpan<float> scores, Span<float> seed)
    {
        seed.Clear();
        seed[ClassFor(image, scores)] = 1f;
    }

    /// <summary>
    /// Whether the target is one class's score y^c, so that methods which read class scores of perturbed inputs
    /// (CAM's class weights, Score-CAM, Ablation-CAM, Integrated Gradients, Occlusion, …) can explain it; a target that
    /// is any other function of the output (a probability, a contrast, a region, a similarity) is explained by the
    /// gradient methods, whose backward pass starts from <see cref="Seed"/>.
    /// </summary>
    public virtual bool IsClassScore => true;

    /// <summary>
    /// Nothing when this target is one class's score; otherwise an <see cref="ArgumentException"/> saying that
    /// <paramref name="method"/> explains class scores only.
    /// </summary>
    public void RequireClassScore(string method)
    {
        if (!IsClassScore)
            throw new ArgumentException($"{method} explains one class's score; the target {this} is not one (use a gradient method: gradcam, gradcam++, layercam, guided-backprop, …)");
    }

    /// <summary>The same class for every image.</summary>
    public static CamTarget Class(int index) => new ClassTarget(index);

    /// <summary>A class per image of the batch: image n explains <paramref name="classes"/>[n].</summary>
    public static CamTarget PerImage(IReadOnlyList<int> classes) => new ImageClassTarget([.. classes]);

    /// <summary>The top prediction (rank 0), the runner-up (rank 1), ….</summary>
    public static CamTarget TopPrediction(int rank = 0) => new RankTarget(rank);

    /// <summary>
    /// A user score L = Σ_c g_c·y^c given by its gradient g with respect to the class scores
    /// (for example a contrast y^a − y^b: g = e_a − e_b). The reported class is the argmax of g.
    /// </summary>
    public static CamTarget ScoreGradient(Func<int, float[], float[]> gradient) => new GradientTarget(gradient);

    /// <summary>y^K − y^J: why K rather than J (<see cref="Targets.ContrastTarget"/>).</summary>
    public static CamTarget Contrast(int index, int against) => new Targets.ContrastTarget(index, against);

    /// <summary>The probability softmax(y)_K rather than the logit (<see cref="Targets.SoftmaxTarget"/>).</summary>
    public static CamTarget Softmax(int index) => new Targets.SoftmaxTarget(index);

    /// <summary>σ(y_K), one output of a multi-label classifier (<see cref="Targets.SigmoidTarget"/>).</summary>
    public static CamTarget Sigmoid(int index) => new Targets.SigmoidTarget(index);

    /// <summary>A one-logit classifier's positive (y) or negative (−y) class (<see cref="Targets.BinaryTarget"/>).</summary>
    public static CamTarget Binary(bool positive = true) => new Targets.BinaryTarget(positive);

    /// <summary>One element of the output flattened after the batch axis (<see cref="Targets.OutputTarget"/>).</summary>
    public static CamTarget Output(int index) => new Targets.OutputTarget(index);

    /// <summary>Class K of a segmentation output [K, H, W] over its predicted region or a mask (<see cref="Targets.SegmentationTarget"/>).</summary>
    public static CamTarget Segmentation(int index, IReadOnlyList<int> outputDims, float[]? mask = null) => new Targets.SegmentationTarget(index, outputDims, mask);

    /// <summary>A detector's boxes overlapping (x1, y1, x2, y2) (<see cref="Targets.BoxTarget"/>).</summary>
    public static CamTarget Box(float x1, float y1, float x2, float y2, int? index, IReadOnlyList<int> outputDims, Targets.DetectorLayout layout = Targets.DetectorLayout.Yolo) =>
        new Targets.BoxTarget(x1, y1, x2, y2, index, outputDims, layout);

    /// <summary>The cosine similarity of the output with a reference embedding (<see cref="Targets.EmbeddingTarget"/>).</summary>
    public static CamTarget Embedding(float[] reference) => new Targets.EmbeddingTarget(reference);

    /// <summary>A target per image of the batch: image n explains <paramref name="targets"/>[n] (a dense model's default region or box per image).</summary>
    public static CamTarget PerImage(IReadOnlyList<CamTarget> targets) => targets.Count == 1 ? targets[0] : new ImageTargets([.. targets]);
}

/// <summary>Image n of the batch explains Targets[n].</summary>
internal sealed record ImageTargets(CamTarget[] Targets) : CamTarget
{
    private CamTarget For(int image) => (uint)image < (uint)Targets.Length ? Targets[image]
        : throw new ArgumentException($"the batch has more images than the {Targets.Length} targets given for it");

    public override int ClassFor(int image, ReadOnlySpan<float> scores) => For(image).ClassFor(image, scores);

    public override void Seed(int image, ReadOnlySpan<float> scores, Span<float> seed) => For(image).Seed(image, scores, seed);

    public override bool IsClassScore => Targets.All(t => t.IsClassScore);

    public override string ToString() => string.Join("; ", Targets.Select(t => t.ToString()));
}

internal sealed record ClassTarget(int Index) : CamTarget
{
    public override int ClassFor(int image, ReadOnlySpan<float> scores) =>
        (uint)Index < (uint)scores.Length ? Index
        : throw new ArgumentException($"class {Index} is out of range: the model has {scores.Length} classes (0–{scores.Length - 1})");
}

internal sealed record RankTarget(int Rank) : CamTarget
{
    public override int ClassFor(int image, ReadOnlySpan<float> scores)
    {
        if (Rank >= scores.Length) throw new ArgumentException($"rank {Rank} is out of range for {scores.Length} classes");
        // The classes ordered by score, highest first, ties by index: picked one rank at a time, each the first class
        // after the last one picked in that order (Rank + 1 scans, nothing allocated).
        int picked = -1;
        for (int r = 0; r <= Rank; r++)
        {
            int best = -1;
            for (int c = 0; c < scores.Length; c++)
                if ((picked < 0 || Before(scores, picked, c)) && (best < 0 || Before(scores, c, best))) best = c;
            picked = best;
        }
        return picked;
    }

    /// <summary>Whether class a comes before class b: a higher score (as float.CompareTo orders them), or the same and a lower index.</summary>
    private static bool Before(ReadOnlySpan<float> scores, int a, int b)
    {
        int order = scores[a].CompareTo(scores[b]);
        return order > 0 || order == 0 && a < b;
    }
}

internal sealed record GradientTarget(Func<int, float[], float[]> Gradient) : CamTarget
{
    public override int ClassFor(int image, ReadOnlySpan<float> scores)
    {
        var g = Gradient(image, scores.ToArray());
        int best = 0;
        for (int i = 1; i < g.Length; i++) if (g[i] > g[best]) best = i;
        return best;
    }

    public override void Seed(int image, ReadOnlySpan<float> scores, Span<float> seed)
    {
        var g = Gradient(image, scores.ToArray());
        if (g.Length != seed.Length) throw new ArgumentException($"the score function returned {g.Length} gradients for {seed.Length} classes");
        g.CopyTo(seed);
    }
}

/// <summary>
/// Image j of a batch of <paramref name="Copies"/> copies per image (moved or noisy ones) explained for the class its
/// original image i = j / copies was found to have: a rank ("top prediction") is not re-ranked on the copy's scores;
/// a fixed class stays fixed; a score function is evaluated on the copy's own scores, as image i's.
/// </summary>
internal sealed record PinnedTarget(CamTarget Inner, int[] Classes, int Copies = 1) : CamTarget
{
    public override int ClassFor(int image, ReadOnlySpan<float> scores) => Classes[image / Copies];

    public override void Seed(int image, ReadOnlySpan<float> scores, Span<float> seed)
    {
        if (Inner is RankTarget) base.Seed(image, scores, seed);
        else Inner.Seed(image / Copies, scores, seed);
    }
}
