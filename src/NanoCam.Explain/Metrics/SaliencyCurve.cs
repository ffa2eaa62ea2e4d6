namespace NanoCam.Explain.Metrics;

/// <summary>
/// A deletion or insertion curve: the probability of the explained class after each step, against the fraction of
/// pixels removed (deletion) or inserted (insertion) so far, and the area under it.
/// </summary>
public sealed record SaliencyCurve(double[] Fractions, float[] Probabilities)
{
    /// <summary>Trapezoidal area under the curve over the fraction of pixels: Σ_i (x_{i+1} − x_i)(p_i + p_{i+1})/2.</summary>
    public double Auc => TrapezoidArea(Fractions, Probabilities);

    /// <summary>Σ_i (x_{i+1} − x_i)(y_i + y_{i+1})/2.</summary>
    public static double TrapezoidArea(ReadOnlySpan<double> x, ReadOnlySpan<float> y)
    {
        if (x.Length != y.Length) throw new ArgumentException($"a curve needs as many x ({x.Length}) as y ({y.Length}) values");
        double area = 0;
        for (int i = 0; i + 1 < x.Length; i++) area += (x[i + 1] - x[i]) * (y[i] + (double)y[i + 1]) / 2;
        return area;
    }
}
