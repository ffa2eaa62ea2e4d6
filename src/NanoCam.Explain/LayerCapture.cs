namespace NanoCam.Explain;

/// <summary>
/// What one forward (+ backward) pass left at the target layer, copied to the host: activations A [N, K, h, w]
/// and, when gradients were requested, ∂y^c/∂A with the same layout; and the class scores y [N, classes].
/// </summary>
public sealed record LayerCapture(string Layer, int Batch, int Channels, int Height, int Width,
    float[] Activations, float[]? Gradients, float[] Scores, int Classes, int[] TargetClasses)
{
    public int Plane => Height * Width;

    /// <summary>Further layers captured in the same pass (FullGrad reads every convolution output beside the input).</summary>
    public IReadOnlyList<LayerCapture> Additional { get; init; } = [];

    public ReadOnlySpan<float> ActivationPlane(int n, int k) => Activations.AsSpan((n * Channels + k) * Plane, Plane);

    public ReadOnlySpan<float> GradientPlane(int n, int k) =>
        Gradients is null ? throw new InvalidOperationException("no gradients were captured") : Gradients.AsSpan((n * Channels + k) * Plane, Plane);

    public ReadOnlySpan<float> ScoresOf(int n) => Scores.AsSpan(n * Classes, Classes);

    /// <summary>y^c of image n for its target class.</summary>
    public float TargetScore(int n) => Scores[n * Classes + TargetClasses[n]];

    /// <summary>The captures of consecutive chunks of a batch as one capture of the whole batch (same layer, in order).</summary>
    public static LayerCapture Join(IReadOnlyList<LayerCapture> parts)
    {
        if (parts.Count == 1) return parts[0];
        var first = parts[0];
        float[]? gradients = first.Gradients is null ? null : Concat(parts.Select(p => p.Gradients!));
        return new LayerCapture(first.Layer, parts.Sum(p => p.Batch), first.Channels, first.Height, first.Width,
            Concat(parts.Select(p => p.Activations)), gradients, Concat(parts.Select(p => p.Scores)), first.Classes,
            Concat(parts.Select(p => p.TargetClasses)))
        {
            Additional = Enumerable.Range(0, first.Additional.Count).Select(i => Join(parts.Select(p => p.Additional[i]).ToList())).ToList(),
        };
    }

    /// <summary>The arrays one after another, copied block by block.</summary>
    private static T[] Concat<T>(IEnumerable<T[]> arrays)
    {
        var list = arrays.ToList();
        var joined = new T[list.Sum(a => a.Length)];
        int offset = 0;
        foreach (var array in list)
        {
            array.CopyTo(joined, offset);
            offset += array.Length;
        }
        return joined;
    }
}
