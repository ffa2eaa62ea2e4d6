namespace NanoCam.Explain.Targets;

/// <summary>
/// An embedding model's similarity to a reference: L = cos(y, r) = y·r / (‖y‖ ‖r‖), seed
/// ∂L/∂y = r / (‖y‖ ‖r‖) − cos(y, r) · y / ‖y‖² (pytorch-grad-cam's SimilarityToConceptTarget), for retrieval and
/// face models; the reference is an embedding file or another image's output.
/// </summary>
public sealed record EmbeddingTarget(float[] Reference) : CamTarget
{
    public override bool IsClassScore => false;

    /// <summary>The target as <c>--target</c> takes it.</summary>
    public override string ToString() => "embedding";

    public override int ClassFor(int image, ReadOnlySpan<float> scores)
    {
        if (scores.Length != Reference.Length)
            throw new ArgumentException($"embedding: the reference has {Reference.Length} values, the model's output has {scores.Length} per image");
        return 0;
    }

    public override void Seed(int image, ReadOnlySpan<float> scores, Span<float> seed)
    {
        ClassFor(image, scores);
        double yy = 0, rr = 0, yr = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            yy += (double)scores[i] * scores[i];
            rr += (double)Reference[i] * Reference[i];
            yr += (double)scores[i] * Reference[i];
        }
        if (yy == 0 || rr == 0) throw new ArgumentException("embedding: the model's output or the reference is the zero vector; their cosine is undefined");
        double ny = Math.Sqrt(yy), nr = Math.Sqrt(rr), cos = yr / (ny * nr);
        for (int i = 0; i < scores.Length; i++) seed[i] = (float)(Reference[i] / (ny * nr) - cos * scores[i] / yy);
    }

    /// <summary>cos(y, r) for one image's output.</summary>
    public float Similarity(ReadOnlySpan<float> output)
    {
        double yy = 0, rr = 0, yr = 0;
        for (int i = 0; i < output.Length; i++) { yy += (double)output[i] * output[i]; rr += (double)Reference[i] * Reference[i]; yr += (double)output[i] * Reference[i]; }
        return (float)(yr / Math.Sqrt(yy * rr));
    }
}
