namespace NanoCam.Data;

/// <summary>Per-channel statistics of a dataset, for the loader's normalization.</summary>
public static class DatasetStatistics
{
    /// <summary>
    /// Mean μ_c = (1/n) Σ x and standard deviation σ_c = √((1/n) Σ x² − μ_c²) per channel over the first
    /// <paramref name="maxExamples"/> examples (accumulated in double).
    /// </summary>
    public static (float[] Mean, float[] Std) MeanStd(Dataset dataset, int maxExamples = 1000)
    {
        int examples = Math.Min(dataset.Count, Math.Max(1, maxExamples)), plane = dataset.Height * dataset.Width;
        var sum = new double[dataset.Channels];
        var sumSquares = new double[dataset.Channels];
        var image = new float[dataset.ImageSize];
        for (int i = 0; i < examples; i++)
        {
            dataset.GetImage(i, image);
            for (int c = 0; c < dataset.Channels; c++)
                for (int p = 0; p < plane; p++)
                {
                    double v = image[c * plane + p];
                    sum[c] += v;
                    sumSquares[c] += v * v;
                }
        }
        double n = (double)examples * plane;
        var mean = new float[dataset.Channels];
        var std = new float[dataset.Channels];
        for (int c = 0; c < dataset.Channels; c++)
        {
            double m = sum[c] / n;
            mean[c] = (float)m;
            std[c] = (float)Math.Sqrt(Math.Max(sumSquares[c] / n - m * m, 1e-12));
        }
        return (mean, std);
    }
}
