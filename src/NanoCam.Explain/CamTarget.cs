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
        var order = Enumerable.Range(0, scores.Length).ToArray();
        var s = scores.ToArray();
        Array.Sort(order, (a, b) => s[b].CompareTo(s[a]) != 0 ? s[b].CompareTo(s[a]) : a.CompareTo(b));
        return order[Rank];
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
