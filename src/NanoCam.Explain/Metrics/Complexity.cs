namespace NanoCam.Explain.Metrics;

/// <summary>
/// How concentrated a map is. Sparseness is the Gini index of the absolute values (Chalasani et al. 2020,
/// as Quantus computes it): with |a| sorted ascending, a_(1) ≤ … ≤ a_(n),
/// G = Σ_{i=1}^{n} (2i − n − 1) a_(i) / (n Σ_i a_(i)); 0 when every value is equal, 1 − 1/n when one value holds all
/// the mass; higher is sparser. Entropy (Bhatt et al. 2020, their complexity criterion) treats p_i = |a_i| / Σ_j |a_j| as a
/// distribution and returns H = −Σ_i p_i ln p_i (nats, 0·ln 0 = 0): ln n for a uniform map, 0 for a one-hot map; lower
/// is simpler. A map that is zero everywhere ranks nothing and is scored as a uniform one (G = 0, H = ln n).
/// </summary>
public static class Complexity
{
    /// <summary>The Gini index of |<paramref name="map"/>|, in [0, 1 − 1/n].</summary>
    public static double Sparseness(ReadOnlySpan<float> map)
    {
        int n = map.Length;
        if (n == 0) throw new ArgumentException("an empty map has no sparseness");
        var sorted = new double[n];
        for (int i = 0; i < n; i++) sorted[i] = Math.Abs((double)map[i]);
        Array.Sort(sorted);
        double total = sorted.Sum();
        if (!(total > 0)) return 0;
        double weighted = 0;
        for (int i = 0; i < n; i++) weighted += (2.0 * (i + 1) - n - 1) * sorted[i]; // Σ (2i − n − 1) a_(i), i from 1
        return weighted / (n * total);
    }

    /// <summary>−Σ p_i ln p_i of p = |map| / Σ|map|, in nats, in [0, ln n].</summary>
    public static double Entropy(ReadOnlySpan<float> map)
    {
        int n = map.Length;
        if (n == 0) throw new ArgumentException("an empty map has no entropy");
        double total = 0;
        foreach (var v in map) total += Math.Abs((double)v);
        if (!(total > 0)) return Math.Log(n);
        double entropy = 0;
        foreach (var v in map)
        {
            double p = Math.Abs((double)v) / total;
            if (p > 0) entropy -= p * Math.Log(p);
        }
        return entropy;
    }
}
