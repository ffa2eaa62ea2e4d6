namespace NanoCam.Core.Tests;

/// <summary>
/// Double-precision references for the element-wise functions, written independently of NanoCam.Elementwise
/// (series and continued fractions taken to convergence), so the float implementations are tested against them.
/// </summary>
internal static class DoubleReference
{
    /// <summary>erf by its Maclaurin series Σ (−1)^n x^(2n+1) / (n!(2n+1)) · 2/√π for |x| ≤ 2.5 (cancellation costs at most ~1e-14), else 1 − erfc.</summary>
    public static double Erf(double x)
    {
        double t = Math.Abs(x);
        if (t > 2.5) return Math.Sign(x) * (1 - Erfc(t));
        double term = t, sum = t;
        for (int n = 1; n < 200 && Math.Abs(term) > 1e-20; n++)
        {
            term *= -t * t / n;
            sum += term / (2 * n + 1);
        }
        return Math.Sign(x) * sum * 2 / Math.Sqrt(Math.PI);
    }

    /// <summary>erfc(t) for t ≥ 0: 1 − erf for t ≤ 2.5, else Laplace's continued fraction e^−t²/√π · 1/(t + (1/2)/(t + (2/2)/(t + …))) 500 levels deep.</summary>
    public static double Erfc(double t)
    {
        if (t <= 2.5) return 1 - Erf(t);
        double f = t;
        for (int k = 500; k >= 1; k--) f = t + k / 2.0 / f;
        return Math.Exp(-t * t) / (Math.Sqrt(Math.PI) * f);
    }

    /// <summary>ln(1 + z): its series for |z| &lt; 1e-4, else Math.Log(1 + z).</summary>
    public static double Log1P(double z) => Math.Abs(z) < 1e-4 ? z - z * z / 2 + z * z * z / 3 - z * z * z * z / 4 : Math.Log(1 + z);

    /// <summary>e^x − 1: its series for |x| &lt; 1e-4, else Math.Exp(x) − 1.</summary>
    public static double ExpM1(double x) => Math.Abs(x) < 1e-4 ? x + x * x / 2 + x * x * x / 6 + x * x * x * x / 24 : Math.Exp(x) - 1;

    public static double Softplus(double x) => x > 0 ? x + Log1P(Math.Exp(-x)) : Log1P(Math.Exp(x));

    public static double Sigmoid(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));

    /// <summary>Φ(x) = 0.5·erfc(−x/√2), through erfc on the negative side so the tail keeps its digits.</summary>
    public static double NormalCdf(double x) => x >= 0 ? 0.5 * (1 + Erf(x / Math.Sqrt(2))) : 0.5 * Erfc(-x / Math.Sqrt(2));
}
