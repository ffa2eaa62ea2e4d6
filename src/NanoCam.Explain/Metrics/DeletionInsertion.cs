namespace NanoCam.Explain.Metrics;

/// <summary>
/// The causal metrics of RISE (Petsiuk et al. 2018, Sec. 4.1). Pixels are taken in order of decreasing saliency
/// (ties by raster index), <c>stepPixels</c> = ⌈HW / steps⌉ at a time, and the probability of the explained class is
/// read after each step, including before the first (fraction 0) and after the last (fraction 1).
/// Deletion removes them from the image, replacing every channel of a removed pixel by <see cref="Substrate.Zero"/>
/// (0 in the model's input space, which for a normalized input is the training mean colour): a faithful map makes
/// the probability fall fast, so lower AUC is better. Insertion starts from a <see cref="Substrate.Blur"/>red copy
/// of the image and puts the original pixels back: higher AUC is better. Both are RISE's own choices (zero for
/// deletion, blur for insertion). The AUC is the trapezoidal area over the fraction of pixels changed, so a step
/// that changes fewer pixels (the last, when steps does not divide HW) is narrower.
/// All the curve's images (2·(steps + 1) for both curves) go to the model in one call, which batches them.
/// </summary>
public static class DeletionInsertion
{
    /// <summary>What replaces the image where pixels are deleted, or where they are not yet inserted.</summary>
    public enum Substrate { Zero, Blur }

    /// <summary>The deletion and the insertion curve of one image [C, H, W] explained by <paramref name="saliency"/> [H, W].</summary>
    public static (SaliencyCurve Deletion, SaliencyCurve Insertion) Curves(IBatchClassifier model, float[] image, int channels, int height, int width,
        ReadOnlySpan<float> saliency, int targetClass, int steps, Substrate deletionSubstrate = Substrate.Zero, Substrate insertionSubstrate = Substrate.Blur)
    {
        int plane = height * width;
        if (image.Length != channels * plane) throw new ArgumentException($"the image has {image.Length} values, not {channels}×{height}×{width}");
        if (saliency.Length != plane) throw new ArgumentException($"the saliency map has {saliency.Length} values, not {height}×{width}");
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "at least one step");
        var order = PixelOrder(saliency);
        var changed = ChangedPixels(plane, steps);
        int points = changed.Length;
        var deletionBase = SubstrateOf(deletionSubstrate, image, channels, height, width);
        var insertionBase = SubstrateOf(insertionSubstrate, image, channels, height, width);
        var probabilities = model.Probabilities(2 * points, (index, output) =>
        {
            // Images 0 … points−1 delete, points … 2·points−1 insert.
            bool deleting = index < points;
            int count = changed[deleting ? index : index - points];
            (deleting ? image : insertionBase).CopyTo(output);
            var source = deleting ? deletionBase : image;
            for (int i = 0; i < count; i++)
                for (int c = 0; c < channels; c++) output[c * plane + order[i]] = source[c * plane + order[i]];
        });
        var fractions = changed.Select(k => (double)k / plane).ToArray();
        float ProbabilityAt(int index) => probabilities[index * model.Classes + targetClass];
        var deletion = new SaliencyCurve(fractions, Enumerable.Range(0, points).Select(ProbabilityAt).ToArray());
        var insertion = new SaliencyCurve(fractions, Enumerable.Range(points, points).Select(ProbabilityAt).ToArray());
        return (deletion, insertion);
    }

    /// <summary>Pixel indices by decreasing saliency; equal values keep raster order (a stable sort).</summary>
    public static int[] PixelOrder(ReadOnlySpan<float> saliency)
    {
        var values = saliency.ToArray();
        return Enumerable.Range(0, values.Length).OrderByDescending(p => values[p]).ThenBy(p => p).ToArray();
    }

    /// <summary>Pixels changed after step 0, 1, …: min(i·⌈P/steps⌉, P), from 0 to P.</summary>
    public static int[] ChangedPixels(int pixels, int steps)
    {
        int perStep = (pixels + steps - 1) / steps;
        int points = (pixels + perStep - 1) / perStep + 1;
        return Enumerable.Range(0, points).Select(i => Math.Min(i * perStep, pixels)).ToArray();
    }

    /// <summary>σ of the insertion blur: RISE blurs 224-pixel images with σ = 5 px; scaled with the width, σ = 5·W/224.</summary>
    public static float BlurSigma(int width) => 5f * width / 224f;

    private static float[] SubstrateOf(Substrate substrate, float[] image, int channels, int height, int width) => substrate switch
    {
        Substrate.Zero => new float[image.Length],
        Substrate.Blur => GaussianBlur(image, channels, height, width, BlurSigma(width)),
        _ => throw new ArgumentOutOfRangeException(nameof(substrate), substrate, "unknown substrate"),
    };

    /// <summary>
    /// Separable Gaussian blur of every channel, weights ∝ exp(−d²/2σ²) for |d| ≤ ⌈3σ⌉, normalized to sum 1,
    /// the border clamped (so a constant image stays constant).
    /// </summary>
    public static float[] GaussianBlur(float[] image, int channels, int height, int width, float sigma)
    {
        int radius = (int)MathF.Ceiling(3 * sigma);
        var kernel = new float[2 * radius + 1];
        float total = 0;
        for (int d = -radius; d <= radius; d++) total += kernel[d + radius] = MathF.Exp(-d * d / (2 * sigma * sigma));
        for (int i = 0; i < kernel.Length; i++) kernel[i] /= total;
        var rows = new float[image.Length];
        var result = new float[image.Length];
        int plane = height * width;
        for (int c = 0; c < channels; c++)
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    float sum = 0;
                    for (int d = -radius; d <= radius; d++) sum += kernel[d + radius] * image[c * plane + y * width + Math.Clamp(x + d, 0, width - 1)];
                    rows[c * plane + y * width + x] = sum;
                }
        for (int c = 0; c < channels; c++)
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    float sum = 0;
                    for (int d = -radius; d <= radius; d++) sum += kernel[d + radius] * rows[c * plane + Math.Clamp(y + d, 0, height - 1) * width + x];
                    result[c * plane + y * width + x] = sum;
                }
        return result;
    }
}
