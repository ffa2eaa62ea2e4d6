namespace NanoCam.Explain.Metrics;

/// <summary>
/// Average drop and increase in confidence (Chattopadhay et al. 2018, Grad-CAM++, Sec. 6.1.1). The explanation map
/// E^c = L^c ∘ I keeps the image where the map (min–max scaled to [0, 1]) is high and fades it to 0 elsewhere — 0 in
/// the model's input space, the training mean colour for a normalized input. With Y^c the probability of class c on
/// the full image and O^c on E^c: average drop = (1/N) Σ_i max(0, Y_i^c − O_i^c) / Y_i^c · 100 (lower is better),
/// increase in confidence = (1/N) Σ_i [Y_i^c &lt; O_i^c] · 100 (higher is better).
/// </summary>
public static class ConfidenceChange
{
    /// <summary>Y^c and O^c of one image: the probability of its class on the full image and on the explanation map.</summary>
    public readonly record struct Pair(float Full, float Explained);

    /// <summary>
    /// Y^c and O^c for each of <paramref name="classes"/>.Length images [N, C, H, W] with their maps [N, H, W] in [0, 1];
    /// the N full and N masked images go to the model in one call.
    /// </summary>
    public static Pair[] Measure(IBatchClassifier model, float[] images, float[] maps, int[] classes, int channels, int height, int width)
    {
        int n = classes.Length, plane = height * width, size = channels * plane;
        if (images.Length != n * size) throw new ArgumentException($"expected {n} images of {channels}×{height}×{width}, got {images.Length} values");
        if (maps.Length != n * plane) throw new ArgumentException($"expected {n} maps of {height}×{width}, got {maps.Length} values");
        var probabilities = model.Probabilities(2 * n, (index, output) =>
        {
            int i = index % n;
            images.AsSpan(i * size, size).CopyTo(output);
            if (index < n) return;
            // E^c = L^c ∘ I, the map applied to every channel
            var map = maps.AsSpan(i * plane, plane);
            for (int c = 0; c < channels; c++)
                for (int p = 0; p < plane; p++) output[c * plane + p] *= map[p];
        });
        var pairs = new Pair[n];
        for (int i = 0; i < n; i++)
            pairs[i] = new Pair(probabilities[i * model.Classes + classes[i]], probabilities[(n + i) * model.Classes + classes[i]]);
        return pairs;
    }

    /// <summary>(1/N) Σ_i max(0, Y_i − O_i) / Y_i · 100, in percent; 0 for no images.</summary>
    public static double AverageDrop(IReadOnlyCollection<Pair> pairs) =>
        pairs.Count == 0 ? 0 : pairs.Sum(p => Math.Max(0.0, p.Full - (double)p.Explained) / p.Full) * 100 / pairs.Count;

    /// <summary>(1/N) Σ_i [Y_i &lt; O_i] · 100, in percent; 0 for no images.</summary>
    public static double IncreaseInConfidence(IReadOnlyCollection<Pair> pairs) =>
        pairs.Count == 0 ? 0 : pairs.Count(p => p.Explained > p.Full) * 100.0 / pairs.Count;
}
