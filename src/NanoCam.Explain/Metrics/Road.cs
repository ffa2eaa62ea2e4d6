namespace NanoCam.Explain.Metrics;

/// <summary>
/// ROAD, remove and debias (Rong et al. 2022): remove a fraction of the pixels in the map's order and fill them by
/// <see cref="NoisyLinearImputation"/> (so that the filled image carries no trace of which pixels were taken, unlike a
/// constant fill), then read the probability of the explained class. Most relevant first (MoRF) removes the top q% of
/// the map (ties in raster order), least relevant first (LeRF) the bottom q% (ties in raster order); we report the
/// drop p(x) − p(x̃_q) at each q (default 20, 40, 60, 80%) and its mean over q. A faithful map makes the MoRF drop large
/// and the LeRF drop small. pytorch-grad-cam's ROADMostRelevantFirst(percentile) keeps the pixels below that percentile
/// (so its 80 removes the top 20%) and returns p(x̃) − p(x), the negated drop: over the symmetric set 20, 40, 60, 80 it
/// makes the same removals, and its mean is the negative of ours (up to how ties and the noise fall). The original and the 2·|q| imputed images go to the model in one call.
/// </summary>
public static class Road
{
    /// <summary>The percentages of pixels removed by default.</summary>
    public static readonly int[] DefaultPercents = [20, 40, 60, 80];

    /// <summary>The probability drop p(x) − p(x̃_q) at each percentage of removed pixels, most and least relevant first.</summary>
    public sealed record Drops(int[] Percents, double[] MostRelevantFirst, double[] LeastRelevantFirst)
    {
        /// <summary>The MoRF drop averaged over the percentages (higher is better).</summary>
        public double MostRelevantFirstMean => MostRelevantFirst.Average();

        /// <summary>The LeRF drop averaged over the percentages (lower is better).</summary>
        public double LeastRelevantFirstMean => LeastRelevantFirst.Average();
    }

    /// <summary>MoRF and LeRF drops of one image [C, H, W] explained by <paramref name="saliency"/> [H, W].</summary>
    public static Drops Measure(IBatchClassifier model, float[] image, int channels, int height, int width, ReadOnlySpan<float> saliency,
        int targetClass, IReadOnlyList<int> percents, Random random, float noise = NoisyLinearImputation.DefaultNoise)
    {
        int plane = height * width;
        if (image.Length != channels * plane) throw new ArgumentException($"the image has {image.Length} values, not {channels}×{height}×{width}");
        if (saliency.Length != plane) throw new ArgumentException($"the saliency map has {saliency.Length} values, not {height}×{width}");
        if (percents.Count == 0 || percents.Any(q => q is < 0 or > 100)) throw new ArgumentException("ROAD needs percentages between 0 and 100");
        var mostFirst = DeletionInsertion.PixelOrder(saliency);
        var leastFirst = AscendingOrder(saliency);
        var imputed = new List<float[]>();
        foreach (var order in new[] { mostFirst, leastFirst })
            foreach (var q in percents)
                imputed.Add(NoisyLinearImputation.Impute(image, channels, height, width, Removed(order, RemovedCount(plane, q)), noise, random));
        var probabilities = model.Probabilities(1 + imputed.Count, (index, output) => (index == 0 ? image : imputed[index - 1]).CopyTo(output));
        double full = probabilities[targetClass];
        int count = percents.Count;
        double Drop(int index) => full - probabilities[(1 + index) * model.Classes + targetClass];
        return new Drops([.. percents], [.. Enumerable.Range(0, count).Select(Drop)], [.. Enumerable.Range(count, count).Select(Drop)]);
    }

    /// <summary>round(q·P/100) pixels of P.</summary>
    public static int RemovedCount(int pixels, int percent) => (int)Math.Round(percent * (double)pixels / 100, MidpointRounding.AwayFromZero);

    /// <summary>Pixel indices by increasing saliency; equal values keep raster order.</summary>
    public static int[] AscendingOrder(ReadOnlySpan<float> saliency)
    {
        var values = saliency.ToArray();
        return Enumerable.Range(0, values.Length).OrderBy(p => values[p]).ThenBy(p => p).ToArray();
    }

    private static bool[] Removed(int[] order, int count)
    {
        var removed = new bool[order.Length];
        for (int i = 0; i < count; i++) removed[order[i]] = true;
        return removed;
    }
}
