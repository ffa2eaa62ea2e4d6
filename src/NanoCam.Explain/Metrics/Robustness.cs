namespace NanoCam.Explain.Metrics;

/// <summary>
/// Explains <c>count</c> images [count, C, H, W] at once, each for its own class, and returns their maps [count, H, W].
/// </summary>
public delegate float[] BatchExplanation(float[] images, int count, int[] classes);

/// <summary>
/// How much a map changes when the input moves a little. N copies x'_j = x + u_j, u_j uniform in the L∞ ball of
/// radius r (every input value moved by at most r, in the model's input units), are explained in one batch, each for
/// the class of the original map. With Δ_j = ‖e(x'_j) − e(x)‖₂:
/// max-sensitivity = max_j Δ_j / ‖e(x)‖₂ and average sensitivity = (1/N) Σ_j Δ_j / ‖e(x)‖₂ (Yeh et al. 2019, Sec. 3:
/// SENS_MAX, the max over the ball, estimated by Monte Carlo sampling as they do, and its mean over the samples), both
/// divided by the norm of the original map, so that they read as
/// a fraction of the map (Quantus divides by ‖x‖₂ instead: multiply ours by ‖e(x)‖₂/‖x‖₂ to compare);
/// local Lipschitz estimate = max_j Δ_j / ‖x'_j − x‖₂ (Alvarez-Melis &amp; Jaakkola 2018, the local Lipschitz
/// constant L̂(x) of their robustness definition, the argmax found among the samples).
/// Lower is better for all three.
/// </summary>
public static class Robustness
{
    /// <summary>One image's three scores; NaN sensitivities when the original map is zero everywhere (nothing to be relative to).</summary>
    public readonly record struct Scores(double MaxSensitivity, double AverageSensitivity, double LocalLipschitz);

    /// <summary>
    /// Samples <paramref name="samples"/> perturbed copies of <paramref name="image"/> [C, H, W], explains them in one call
    /// for <paramref name="targetClass"/>, and scores the change against <paramref name="map"/> [H, W].
    /// </summary>
    public static Scores Measure(BatchExplanation explain, float[] image, ReadOnlySpan<float> map, int targetClass,
        int channels, int height, int width, float radius, int samples, Random random)
    {
        int size = channels * height * width;
        if (image.Length != size) throw new ArgumentException($"the image has {image.Length} values, not {channels}×{height}×{width}");
        if (map.Length != height * width) throw new ArgumentException($"the map has {map.Length} values, not {height}×{width}");
        if (!(radius > 0) || !float.IsFinite(radius)) throw new ArgumentOutOfRangeException(nameof(radius), radius, "the noise radius must be a positive number");
        if (samples < 1) throw new ArgumentOutOfRangeException(nameof(samples), samples, "at least one sample");
        var perturbed = Perturb(image, samples, radius, random);
        var classes = Enumerable.Repeat(targetClass, samples).ToArray();
        var perturbedMaps = explain(perturbed, samples, classes);
        return FromSamples(image, map, perturbed, perturbedMaps, samples);
    }

    /// <summary><paramref name="samples"/> copies of <paramref name="image"/>, every value moved by a draw uniform in [−r, r].</summary>
    public static float[] Perturb(float[] image, int samples, float radius, Random random)
    {
        var copies = new float[samples * image.Length];
        for (int j = 0; j < samples; j++)
            for (int i = 0; i < image.Length; i++)
                copies[j * image.Length + i] = image[i] + radius * (float)(2 * random.NextDouble() - 1);
        return copies;
    }

    /// <summary>The three scores from the original image and map and the N perturbed images and their maps.</summary>
    public static Scores FromSamples(ReadOnlySpan<float> image, ReadOnlySpan<float> map, ReadOnlySpan<float> perturbed, ReadOnlySpan<float> perturbedMaps, int samples)
    {
        int size = image.Length, plane = map.Length;
        if (perturbed.Length != samples * size || perturbedMaps.Length != samples * plane)
            throw new ArgumentException($"expected {samples} perturbed images of {size} values and maps of {plane}");
        double mapNorm = Math.Sqrt(SquaredDistance(map, new float[plane]));
        double largest = 0, total = 0, lipschitz = 0;
        for (int j = 0; j < samples; j++)
        {
            double change = Math.Sqrt(SquaredDistance(perturbedMaps.Slice(j * plane, plane), map)); // Δ_j = ‖e(x'_j) − e(x)‖₂
            double step = Math.Sqrt(SquaredDistance(perturbed.Slice(j * size, size), image));      // ‖x'_j − x‖₂
            largest = Math.Max(largest, change);
            total += change;
            if (step > 0) lipschitz = Math.Max(lipschitz, change / step);
        }
        return mapNorm > 0
            ? new Scores(largest / mapNorm, total / samples / mapNorm, lipschitz)
            : new Scores(double.NaN, double.NaN, lipschitz);
    }

    private static double SquaredDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = a[i] - (double)b[i];
            sum += d * d;
        }
        return sum;
    }
}
