using System.Runtime.Intrinsics;

namespace NanoCam.Elementwise;

// The Vector256 bodies of VectorMath, for CPUs without AVX-512: VectorMath.cs with Vector512 replaced by Vector256.

public static partial class VectorMath
{
    /// <summary>
    /// erf(x) = sign(x)·(|x| &lt; 1 ? |x|·P(x²) : 1 − e^−x²·Q(|x|)): P the degree-6 least-squares fit of erf(t)/t on
    /// s = t² ∈ [0, 1] (relative error 1.2e-9 before rounding), Q the degree-13 fit of the scaled erfc e^t²·erfc(t)
    /// (<see cref="ScalarMath.ScaledErfc"/>) in u = (2t − 4.5)/3.5 on t ∈ [0.5, 4] (2.5e-8); from t = 4 on erf rounds to ±1.
    /// The error of e^−x² (x² rounded) moves erf by under 1e-9. Measured: at most 2.2 ulp from <see cref="ScalarMath.ErfDouble"/>.
    /// </summary>
    public static Vector256<float> Erf(Vector256<float> x)
    {
        var t = Vector256.Abs(x);
        var small = x * ErfOverT(x * x);
        if (Vector256.LessThanAll(t, Vector256.Create(1f))) return small;
        var tc = Vector256.Min(t, Vector256.Create(4f));
        var big = Vector256.Create(1f) - Vector256.Exp(-(tc * tc)) * ScaledErfc(tc);
        return Vector256.ConditionalSelect(Vector256.LessThan(t, Vector256.Create(1f)), small, Vector256.CopySign(big, x));
    }

    /// <summary>
    /// Φ(x) = 0.5·(1 + erf(x/√2)) for x ≥ 0, 0.5·erfc(|x|/√2) for x &lt; 0 (the tail keeps its digits), with t = |x|/√2:
    /// erf from P below t = 0.5 (where 1 − erf loses under a bit); above, erfc = e^−t²·Q(t) (t &lt; 4) or e^−t²·(Laplace's continued fraction, 8 levels) with
    /// t² = x²/2 taken as x² = hi + lo exactly (FMA), e^−t² = e^−hi/2·(1 − lo/2), so the deep tail keeps its digits too.
    /// Measured: x·Φ(x) at most 6 ulp from the double GELU (in the tail beyond x = −8), under 3 ulp elsewhere.
    /// </summary>
    public static Vector256<float> NormalCdf(Vector256<float> x)
    {
        var one = Vector256.Create(1f);
        var half = Vector256.Create(0.5f);
        var ax = Vector256.Min(Vector256.Abs(x), Vector256.Create(15f));   // Φ(−15) underflows: clamped, −∞ and +∞ stay finite
        var t = ax * Vector256.Create(0.70710677f);
        var hi = ax * ax;
        var erfSmall = t * ErfOverT(hi * half);
        var cut = Vector256.Create(0.5f);
        var below = Vector256.LessThan(t, cut);
        var negative = Vector256.LessThan(x, Vector256<float>.Zero);
        if (Vector256.LessThanAll(t, cut))
            return Vector256.ConditionalSelect(negative, half * (one - erfSmall), half + half * erfSmall);
        var lo = Vector256.FusedMultiplyAdd(ax, ax, -hi);
        var gauss = Vector256.Exp(-half * hi) * (one - half * lo);
        var scaled = ScaledErfc(Vector256.Max(t, cut));
        if (Vector256.GreaterThanOrEqualAny(t, Vector256.Create(4f)))
            scaled = Vector256.ConditionalSelect(Vector256.LessThan(t, Vector256.Create(4f)), scaled, ScaledErfcTail(t));
        var erfc = Vector256.ConditionalSelect(below, one - erfSmall, gauss * scaled);
        var erf = Vector256.ConditionalSelect(below, erfSmall, one - erfc);
        var cdf = Vector256.ConditionalSelect(negative, half * erfc, half + half * erf);
        // NaN compares false everywhere above and would come out as a number: keep it.
        return Vector256.ConditionalSelect(Vector256.IsNaN(x), x, cdf);
    }

    /// <summary>
    /// tanh x = x + x³·R(x²) for |x| &lt; 0.55 (R the degree-4 fit of (tanh x − x)/x³, relative error 4e-8 on a term
    /// under a tenth of the value), else sign(x)·(1 − e)/(1 + e) with e = e^−2|x| ≤ 1/3 (no cancellation), |x| capped at 9
    /// where tanh rounds to 1. Measured: at most 1.8 ulp from the double tanh.
    /// </summary>
    public static Vector256<float> Tanh(Vector256<float> x)
    {
        var ax = Vector256.Abs(x);
        var s = x * x;
        var r = Vector256.FusedMultiplyAdd(s, Vector256.Create(-0.006604848f), Vector256.Create(0.021306110f));
        r = Vector256.FusedMultiplyAdd(s, r, Vector256.Create(-0.053908802f));
        r = Vector256.FusedMultiplyAdd(s, r, Vector256.Create(0.13333110f));
        r = Vector256.FusedMultiplyAdd(s, r, Vector256.Create(-0.33333332f));
        var small = Vector256.FusedMultiplyAdd(x * s, r, x);
        var limit = Vector256.Create(0.55f);
        if (Vector256.LessThanAll(ax, limit)) return small;
        var e = Vector256.Exp(Vector256.Create(-2f) * Vector256.Min(ax, Vector256.Create(9f)));
        var one = Vector256.Create(1f);
        var big = Vector256.CopySign((one - e) / (one + e), x);
        return Vector256.ConditionalSelect(Vector256.LessThan(ax, limit), small, big);
    }

    /// <summary>σ(x) = (x ≥ 0 ? 1 : e)/(1 + e) with e = e^−|x| ≤ 1, as <see cref="ScalarMath.Sigmoid"/>.</summary>
    public static Vector256<float> Sigmoid(Vector256<float> x)
    {
        var e = Vector256.Exp(-Vector256.Abs(x));
        var one = Vector256.Create(1f);
        return Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(x, Vector256<float>.Zero), one, e) / (one + e);
    }

    /// <summary>ln(1 + e^x) = max(x, 0) + ln(1 + e^−|x|), the logarithm with Kahan's correction as <see cref="ScalarMath.Log1P"/>.</summary>
    public static Vector256<float> Softplus(Vector256<float> x)
    {
        var z = Vector256.Exp(-Vector256.Abs(x));
        var u = Vector256.Create(1f) + z;
        var d = u - Vector256.Create(1f);
        var log1p = Vector256.ConditionalSelect(Vector256.Equals(d, Vector256<float>.Zero), z, Vector256.Log(u) * z / d);
        return Vector256.Max(x, Vector256<float>.Zero) + log1p;
    }

    /// <summary>e^x − 1 with Kahan's correction (u − 1)·x/ln u, u = e^x (as <see cref="ScalarMath.ExpM1"/>), for x ≤ 0 lanes; others are not used.</summary>
    public static Vector256<float> ExpM1(Vector256<float> x)
    {
        var u = Vector256.Exp(x);
        var um1 = u - Vector256.Create(1f);
        var r = um1 * x / Vector256.Log(u);
        r = Vector256.ConditionalSelect(Vector256.Equals(um1, Vector256.Create(-1f)), um1, r);
        return Vector256.ConditionalSelect(Vector256.Equals(um1, Vector256<float>.Zero), x, r);
    }

    /// <summary>
    /// Mish: x·tanh(softplus x) = x·n/(n + 2) with n = e^x·(e^x + 2), since tanh(ln(1 + e^x)) = ((1 + e^x)² − 1)/((1 + e^x)² + 1):
    /// every term positive, no cancellation; x capped at 20 inside n, where n/(n + 2) rounds to 1.
    /// </summary>
    public static Vector256<float> Mish(Vector256<float> x)
    {
        var e = Vector256.Exp(Vector256.Min(x, Vector256.Create(20f)));
        var n = e * (e + Vector256.Create(2f));
        return x * (n / (n + Vector256.Create(2f)));
    }

    /// <summary>σ'(x) = e/(1 + e)² with e = e^−|x|, as <see cref="ScalarMath.SigmoidDerivative"/>.</summary>
    public static Vector256<float> SigmoidDerivative(Vector256<float> x)
    {
        var e = Vector256.Exp(-Vector256.Abs(x));
        var d = Vector256.Create(1f) + e;
        return e / (d * d);
    }

    /// <summary>tanh'(x) = 4e/(1 + e)² with e = e^−2|x|, as <see cref="ScalarMath.TanhDerivative"/>.</summary>
    public static Vector256<float> TanhDerivative(Vector256<float> x)
    {
        var e = Vector256.Exp(Vector256.Create(-2f) * Vector256.Abs(x));
        var d = Vector256.Create(1f) + e;
        return Vector256.Create(4f) * e / (d * d);
    }

    /// <summary>erf'(x) = (2/√π)·e^−x², with x² = hi + lo (FMA): e^−hi·(1 − lo), so the tail keeps its digits.</summary>
    public static Vector256<float> ErfDerivative(Vector256<float> x)
    {
        var ax = Vector256.Min(Vector256.Abs(x), Vector256.Create(11f));   // e^−121 underflows; x² stays finite
        var hi = ax * ax;
        var lo = Vector256.FusedMultiplyAdd(ax, ax, -hi);
        return Vector256.Create(1.1283791670955126f) * Vector256.Exp(-hi) * (Vector256.Create(1f) - lo);
    }

    /// <summary>GELU'(x) = Φ(x) + x·φ(x), φ(x) = e^(−x²/2)/√(2π), with x² = hi + lo (FMA) as in <see cref="NormalCdf(Vector256{float})"/>.</summary>
    public static Vector256<float> GeluDerivative(Vector256<float> x)
    {
        var ax = Vector256.Min(Vector256.Abs(x), Vector256.Create(15f));   // φ(15) underflows; x² stays finite
        var hi = ax * ax;
        var lo = Vector256.FusedMultiplyAdd(ax, ax, -hi);
        var half = Vector256.Create(0.5f);
        var density = Vector256.Create(0.3989422804014327f) * Vector256.Exp(-half * hi) * (Vector256.Create(1f) - half * lo);
        return NormalCdf(x) + x * density;
    }

    /// <summary>erf(t)/t as a polynomial in s = t² on [0, 1] (FMA Horner).</summary>
    private static Vector256<float> ErfOverT(Vector256<float> s)
    {
        var p = Vector256.FusedMultiplyAdd(s, Vector256.Create(7.8472591e-05f), Vector256.Create(-0.00080081893f));
        p = Vector256.FusedMultiplyAdd(s, p, Vector256.Create(0.0051880989f));
        p = Vector256.FusedMultiplyAdd(s, p, Vector256.Create(-0.026853691f));
        p = Vector256.FusedMultiplyAdd(s, p, Vector256.Create(0.11283582f));
        p = Vector256.FusedMultiplyAdd(s, p, Vector256.Create(-0.37612626f));
        return Vector256.FusedMultiplyAdd(s, p, Vector256.Create(1.1283792f));
    }

    /// <summary>e^t²·erfc(t) on t ∈ [0.5, 4] as a polynomial in u = (2t − 4.5)/3.5.</summary>
    private static Vector256<float> ScaledErfc(Vector256<float> t)
    {
        var u = (t + t - Vector256.Create(4.5f)) * Vector256.Create(1f / 3.5f);
        var q = Vector256.FusedMultiplyAdd(u, Vector256.Create(-9.36666110646911e-05f), Vector256.Create(0.00024238410696852952f));
        q = Vector256.FusedMultiplyAdd(u, q, Vector256.Create(-0.00023220106959342957f));
        q = Vector256.FusedMultiplyAdd(u, q, Vector256.Create(0.000414661510149017f));
        q = Vector256.FusedMultiplyAdd(u, q, Vector256.Create(-0.0012661180226132274f));
        q = Vector256.FusedMultiplyAdd(u, q, Vector256.Create(0.002706627594307065f));
        q = Vector256.FusedMultiplyAdd(u, q, Vector256.Create(-0.0051690055988729f));
        q = Vector256.FusedMultiplyAdd(u, q, Vector256.Create(0.009967762976884842f));
        q = Vector256.FusedMultiplyAdd(u, q, Vector256.Create(-0.018768278881907463f));
        q = Vector256.FusedMultiplyAdd(u, q, Vector256.Create(0.03394918516278267f));
        q = Vector256.FusedMultiplyAdd(u, q, Vector256.Create(-0.058964814990758896f));
        q = Vector256.FusedMultiplyAdd(u, q, Vector256.Create(0.09797701239585876f));
        q = Vector256.FusedMultiplyAdd(u, q, Vector256.Create(-0.15485134720802307f));
        return Vector256.FusedMultiplyAdd(u, q, Vector256.Create(0.23108726739883423f));
    }

    /// <summary>e^t²·erfc(t) for t ≥ 4: 1/√π · 1/(t + (1/2)/(t + (2/2)/(t + …))), 8 levels (relative error below 2e-9).</summary>
    private static Vector256<float> ScaledErfcTail(Vector256<float> t)
    {
        var f = t;
        for (int k = 8; k >= 1; k--) f = t + Vector256.Create(0.5f * k) / f;
        return Vector256.Create(0.56418958f) / f;
    }
}
