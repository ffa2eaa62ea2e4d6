namespace NanoCam.Explain.Metrics;

/// <summary>
/// Conjugate gradients (Hestenes &amp; Stiefel 1952) for A x = b with A symmetric positive (semi-)definite, given as a
/// product x ↦ A x; starts from x = 0 and stops when ‖r‖₂ ≤ tolerance · ‖b‖₂ or after the iteration limit.
/// </summary>
public static class ConjugateGradient
{
    /// <summary>x with A x ≈ b.</summary>
    public static double[] Solve(Action<double[], double[]> multiply, double[] b, double tolerance = 1e-10, int? maxIterations = null)
    {
        int n = b.Length;
        var x = new double[n];
        var r = (double[])b.Clone();
        var p = (double[])b.Clone();
        var ap = new double[n];
        double rr = Dot(r, r), stop = tolerance * tolerance * rr;
        int limit = maxIterations ?? 10 * n + 100;
        for (int iteration = 0; iteration < limit && rr > stop && rr > 0; iteration++)
        {
            multiply(p, ap);
            double pap = Dot(p, ap);
            if (!(pap > 0)) break; // a direction A does not see (semi-definite): nothing more to gain
            double alpha = rr / pap;
            for (int i = 0; i < n; i++) { x[i] += alpha * p[i]; r[i] -= alpha * ap[i]; }
            double next = Dot(r, r);
            double beta = next / rr;
            for (int i = 0; i < n; i++) p[i] = r[i] + beta * p[i];
            rr = next;
        }
        return x;
    }

    private static double Dot(double[] a, double[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }
}
