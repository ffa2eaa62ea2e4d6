namespace NanoCam.Explain.Metrics;

/// <summary>
/// Spearman's rank correlation ρ: the Pearson correlation of the ranks, tied values sharing the mean of the ranks they
/// span (fractional ranking), so ρ = 1 for any increasing relation, −1 for a decreasing one.
/// </summary>
public static class SpearmanCorrelation
{
    /// <summary>ρ of two equally long sequences; 0 when either is constant (it ranks nothing, so it agrees with nothing).</summary>
    public static double Of(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"Spearman's ρ needs sequences of one length, got {a.Length} and {b.Length}");
        if (a.Length < 2) throw new ArgumentException("Spearman's ρ needs at least two values");
        return Pearson(Ranks(a), Ranks(b));
    }

    /// <summary>1-based ranks in ascending order; a run of ties gets the mean of its positions (e.g. 2, 3 → 2.5, 2.5).</summary>
    public static double[] Ranks(ReadOnlySpan<float> values)
    {
        int n = values.Length;
        var copy = values.ToArray();
        var order = Enumerable.Range(0, n).ToArray();
        Array.Sort(copy.ToArray(), order);
        var ranks = new double[n];
        for (int start = 0; start < n;)
        {
            int end = start + 1;
            while (end < n && copy[order[end]] == copy[order[start]]) end++;
            double shared = (start + 1 + end) / 2.0; // mean of positions start+1 … end
            for (int k = start; k < end; k++) ranks[order[k]] = shared;
            start = end;
        }
        return ranks;
    }

    private static double Pearson(double[] x, double[] y)
    {
        double mx = x.Average(), my = y.Average(), sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double dx = x[i] - mx, dy = y[i] - my;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }
        return sxx > 0 && syy > 0 ? sxy / Math.Sqrt(sxx * syy) : 0;
    }
}
