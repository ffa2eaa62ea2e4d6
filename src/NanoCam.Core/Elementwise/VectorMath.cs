using System.Runtime.CompilerServices;

namespace NanoCam.Elementwise;

// The vector bodies of the transcendental activations, in float, lane by lane, written once for every width (see
// FloatLanes.cs). Each one's error bound (against a double-precision reference, over a dense grid with the tails) is
// measured in both widths by VectorFunctionTests in tests/NanoCam.Cpu.Tests.

/// <summary>Vectorised float erf, Φ, tanh, σ, softplus, e^x − 1 and Mish for the <see cref="IVectorUnaryFunction"/> structs.</summary>
public static class VectorMath
{
    /// <summary>
    /// erf(x) = sign(x)·(|x| &lt; 1 ? |x|·P(x²) : 1 − e^−x²·Q(|x|)): P the degree-6 least-squares fit of erf(t)/t on
    /// s = t² ∈ [0, 1] (relative error 1.2e-9 before rounding), Q the degree-13 fit of the scaled erfc e^t²·erfc(t)
    /// (<see cref="ScalarMath.ScaledErfc"/>) in u = (2t − 4.5)/3.5 on t ∈ [0.5, 4] (2.5e-8); from t = 4 on erf rounds to ±1.
    /// The error of e^−x² (x² rounded) moves erf by under 1e-9. Measured: at most 2.2 ulp from <see cref="ScalarMath.ErfDouble"/>.
    /// </summary>
    public static TLanes Erf<TLanes>(TLanes x) where TLanes : struct, IFloatLanes<TLanes>
    {
        var t = TLanes.Abs(x);
        var small = x * ErfOverT(x * x);
        if (TLanes.LessThanAll(t, TLanes.Create(1f))) return small;
        var tc = TLanes.Min(t, 4f);
        var big = TLanes.Create(1f) - TLanes.Exp(-(tc * tc)) * ScaledErfc(tc);
        return TLanes.SelectWhereLessThan(t, TLanes.Create(1f), small, TLanes.CopySign(big, x));
    }

    /// <summary>
    /// Φ(x) = 0.5·(1 + erf(x/√2)) for x ≥ 0, 0.5·erfc(|x|/√2) for x &lt; 0 (the tail keeps its digits), with t = |x|/√2:
    /// erf from P below t = 0.5 (where 1 − erf loses under a bit); above, erfc = e^−t²·Q(t) (t &lt; 4) or e^−t²·(Laplace's continued fraction, 8 levels) with
    /// t² = x²/2 taken as x² = hi + lo exactly (FMA), e^−t² = e^−hi/2·(1 − lo/2), so the deep tail keeps its digits too.
    /// Measured: x·Φ(x) at most 6 ulp from the double GELU (in the tail beyond x = −8), under 3 ulp elsewhere.
    /// </summary>
    public static TLanes NormalCdf<TLanes>(TLanes x) where TLanes : struct, IFloatLanes<TLanes>
    {
        var one = TLanes.Create(1f);
        var half = TLanes.Create(0.5f);
        var ax = TLanes.Min(TLanes.Abs(x), 15f);   // Φ(−15) underflows: clamped, −∞ and +∞ stay finite
        var t = ax * TLanes.Create(0.70710677f);
        var hi = ax * ax;
        var erfSmall = t * ErfOverT(hi * half);
        var cut = TLanes.Create(0.5f);
        if (TLanes.LessThanAll(t, cut))
            return TLanes.SelectWhereLessThan(x, TLanes.Zero, half * (one - erfSmall), half + half * erfSmall);
        var lo = TLanes.FusedMultiplyAdd(ax, ax, -hi);
        var gauss = TLanes.Exp(-half * hi) * (one - half * lo);
        var scaled = ScaledErfc(TLanes.Max(t, 0.5f));
        if (TLanes.GreaterThanOrEqualAny(t, TLanes.Create(4f)))
            scaled = TLanes.SelectWhereLessThan(t, TLanes.Create(4f), scaled, ScaledErfcTail(t));
        var erfc = TLanes.SelectWhereLessThan(t, cut, one - erfSmall, gauss * scaled);
        var erf = TLanes.SelectWhereLessThan(t, cut, erfSmall, one - erfc);
        var cdf = TLanes.SelectWhereLessThan(x, TLanes.Zero, half * erfc, half + half * erf);
        // NaN compares false everywhere above and would come out as a number: keep it.
        return TLanes.SelectWhereNaN(x, x, cdf);
    }

    /// <summary>
    /// tanh x = x + x³·R(x²) for |x| &lt; 0.55 (R the degree-4 fit of (tanh x − x)/x³, relative error 4e-8 on a term
    /// under a tenth of the value), else sign(x)·(1 − e)/(1 + e) with e = e^−2|x| ≤ 1/3 (no cancellation), |x| capped at 9
    /// where tanh rounds to 1. Measured: at most 1.8 ulp from the double tanh.
    /// </summary>
    public static TLanes Tanh<TLanes>(TLanes x) where TLanes : struct, IFloatLanes<TLanes>
    {
        var ax = TLanes.Abs(x);
        var s = x * x;
        var r = TLanes.FusedMultiplyAdd(s, TLanes.Create(-0.006604848f), TLanes.Create(0.021306110f));
        r = TLanes.FusedMultiplyAdd(s, r, TLanes.Create(-0.053908802f));
        r = TLanes.FusedMultiplyAdd(s, r, TLanes.Create(0.13333110f));
        r = TLanes.FusedMultiplyAdd(s, r, TLanes.Create(-0.33333332f));
        var small = TLanes.FusedMultiplyAdd(x * s, r, x);
        var limit = TLanes.Create(0.55f);
        if (TLanes.LessThanAll(ax, limit)) return small;
        var e = TLanes.Exp(TLanes.Create(-2f) * TLanes.Min(ax, 9f));
        var one = TLanes.Create(1f);
        var big = TLanes.CopySign((one - e) / (one + e), x);
        return TLanes.SelectWhereLessThan(ax, limit, small, big);
    }

    /// <summary>σ(x) = (x ≥ 0 ? 1 : e)/(1 + e) with e = e^−|x| ≤ 1, as <see cref="ScalarMath.Sigmoid"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]   // small: inlined into the kernel loop, as the Vector512 body was
    public static TLanes Sigmoid<TLanes>(TLanes x) where TLanes : struct, IFloatLanes<TLanes>
    {
        var e = TLanes.Exp(-TLanes.Abs(x));
        var one = TLanes.Create(1f);
        return TLanes.SelectWhereGreaterThanOrEqual(x, TLanes.Zero, one, e) / (one + e);
    }

    /// <summary>ln(1 + e^x) = max(x, 0) + ln(1 + e^−|x|), the logarithm with Kahan's correction as <see cref="ScalarMath.Log1P"/>.</summary>
    public static TLanes Softplus<TLanes>(TLanes x) where TLanes : struct, IFloatLanes<TLanes>
    {
        var z = TLanes.Exp(-TLanes.Abs(x));
        var u = TLanes.Create(1f) + z;
        var d = u - TLanes.Create(1f);
        var log1p = TLanes.SelectWhereEqual(d, TLanes.Zero, z, TLanes.Log(u) * z / d);
        return TLanes.Max(x, 0f) + log1p;
    }

    /// <summary>e^x − 1 with Kahan's correction (u − 1)·x/ln u, u = e^x (as <see cref="ScalarMath.ExpM1"/>), for x ≤ 0 lanes; others are not used.</summary>
    public static TLanes ExpM1<TLanes>(TLanes x) where TLanes : struct, IFloatLanes<TLanes>
    {
        var u = TLanes.Exp(x);
        var um1 = u - TLanes.Create(1f);
        var r = um1 * x / TLanes.Log(u);
        r = TLanes.SelectWhereEqual(um1, TLanes.Create(-1f), um1, r);
        return TLanes.SelectWhereEqual(um1, TLanes.Zero, x, r);
    }

    /// <summary>
    /// Mish: x·tanh(softplus x) = x·n/(n + 2) with n = e^x·(e^x + 2), since tanh(ln(1 + e^x)) = ((1 + e^x)² − 1)/((1 + e^x)² + 1):
    /// every term positive, no cancellation; x capped at 20 inside n, where n/(n + 2) rounds to 1.
    /// </summary>
    public static TLanes Mish<TLanes>(TLanes x) where TLanes : struct, IFloatLanes<TLanes>
    {
        var e = TLanes.Exp(TLanes.Min(x, 20f));
        var n = e * (e + TLanes.Create(2f));
        return x * (n / (n + TLanes.Create(2f)));
    }

    /// <summary>
    /// Mish'(x) = tanh(sp) + x·(1 − tanh² sp)·σ(x), sp = softplus x; with e = e^x and n = e·(e + 2) as in <see cref="Mish{TLanes}(TLanes)"/>,
    /// tanh sp = n/(n + 2), 1 − tanh² sp = 4(1 + e)²/(n + 2)² and σ = e/(1 + e), so Mish' = n/(n + 2) + 4x·e·(1 + e)/(n + 2)²:
    /// every term positive but x's sign, no cancellation inside; x capped at 20 inside e, where the second term is below 1e-15.
    /// </summary>
    public static TLanes MishDerivative<TLanes>(TLanes x) where TLanes : struct, IFloatLanes<TLanes>
    {
        var e = TLanes.Exp(TLanes.Min(x, 20f));
        var n = e * (e + TLanes.Create(2f));
        var d = n + TLanes.Create(2f);
        return n / d + TLanes.Create(4f) * x * (e * (TLanes.Create(1f) + e)) / (d * d);
    }

    /// <summary>σ'(x) = e/(1 + e)² with e = e^−|x|, as <see cref="ScalarMath.SigmoidDerivative"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]   // small: inlined into the kernel loop, as the Vector512 body was
    public static TLanes SigmoidDerivative<TLanes>(TLanes x) where TLanes : struct, IFloatLanes<TLanes>
    {
        var e = TLanes.Exp(-TLanes.Abs(x));
        var d = TLanes.Create(1f) + e;
        return e / (d * d);
    }

    /// <summary>tanh'(x) = 4e/(1 + e)² with e = e^−2|x|, as <see cref="ScalarMath.TanhDerivative"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]   // small: inlined into the kernel loop, as the Vector512 body was
    public static TLanes TanhDerivative<TLanes>(TLanes x) where TLanes : struct, IFloatLanes<TLanes>
    {
        var e = TLanes.Exp(TLanes.Create(-2f) * TLanes.Abs(x));
        var d = TLanes.Create(1f) + e;
        return TLanes.Create(4f) * e / (d * d);
    }

    /// <summary>erf'(x) = (2/√π)·e^−x², with x² = hi + lo (FMA): e^−hi·(1 − lo), so the tail keeps its digits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]   // small: inlined into the kernel loop, as the Vector512 body was
    public static TLanes ErfDerivative<TLanes>(TLanes x) where TLanes : struct, IFloatLanes<TLanes>
    {
        var ax = TLanes.Min(TLanes.Abs(x), 11f);   // e^−121 underflows; x² stays finite
        var hi = ax * ax;
        var lo = TLanes.FusedMultiplyAdd(ax, ax, -hi);
        return TLanes.Create(1.1283791670955126f) * TLanes.Exp(-hi) * (TLanes.Create(1f) - lo);
    }

    /// <summary>GELU'(x) = Φ(x) + x·φ(x), φ(x) = e^(−x²/2)/√(2π), with x² = hi + lo (FMA) as in <see cref="NormalCdf{TLanes}(TLanes)"/>.</summary>
    public static TLanes GeluDerivative<TLanes>(TLanes x) where TLanes : struct, IFloatLanes<TLanes>
    {
        var ax = TLanes.Min(TLanes.Abs(x), 15f);   // φ(15) underflows; x² stays finite
        var hi = ax * ax;
        var lo = TLanes.FusedMultiplyAdd(ax, ax, -hi);
        var half = TLanes.Create(0.5f);
        var density = TLanes.Create(0.3989422804014327f) * TLanes.Exp(-half * hi) * (TLanes.Create(1f) - half * lo);
        return NormalCdf(x) + x * density;
    }

    /// <summary>erf(t)/t as a polynomial in s = t² on [0, 1] (FMA Horner).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TLanes ErfOverT<TLanes>(TLanes s) where TLanes : struct, IFloatLanes<TLanes>
    {
        var p = TLanes.FusedMultiplyAdd(s, TLanes.Create(7.8472591e-05f), TLanes.Create(-0.00080081893f));
        p = TLanes.FusedMultiplyAdd(s, p, TLanes.Create(0.0051880989f));
        p = TLanes.FusedMultiplyAdd(s, p, TLanes.Create(-0.026853691f));
        p = TLanes.FusedMultiplyAdd(s, p, TLanes.Create(0.11283582f));
        p = TLanes.FusedMultiplyAdd(s, p, TLanes.Create(-0.37612626f));
        return TLanes.FusedMultiplyAdd(s, p, TLanes.Create(1.1283792f));
    }

    /// <summary>e^t²·erfc(t) on t ∈ [0.5, 4] as a polynomial in u = (2t − 4.5)/3.5.</summary>
    private static TLanes ScaledErfc<TLanes>(TLanes t) where TLanes : struct, IFloatLanes<TLanes>
    {
        var u = (t + t - TLanes.Create(4.5f)) * TLanes.Create(1f / 3.5f);
        var q = TLanes.FusedMultiplyAdd(u, TLanes.Create(-9.36666110646911e-05f), TLanes.Create(0.00024238410696852952f));
        q = TLanes.FusedMultiplyAdd(u, q, TLanes.Create(-0.00023220106959342957f));
        q = TLanes.FusedMultiplyAdd(u, q, TLanes.Create(0.000414661510149017f));
        q = TLanes.FusedMultiplyAdd(u, q, TLanes.Create(-0.0012661180226132274f));
        q = TLanes.FusedMultiplyAdd(u, q, TLanes.Create(0.002706627594307065f));
        q = TLanes.FusedMultiplyAdd(u, q, TLanes.Create(-0.0051690055988729f));
        q = TLanes.FusedMultiplyAdd(u, q, TLanes.Create(0.009967762976884842f));
        q = TLanes.FusedMultiplyAdd(u, q, TLanes.Create(-0.018768278881907463f));
        q = TLanes.FusedMultiplyAdd(u, q, TLanes.Create(0.03394918516278267f));
        q = TLanes.FusedMultiplyAdd(u, q, TLanes.Create(-0.058964814990758896f));
        q = TLanes.FusedMultiplyAdd(u, q, TLanes.Create(0.09797701239585876f));
        q = TLanes.FusedMultiplyAdd(u, q, TLanes.Create(-0.15485134720802307f));
        return TLanes.FusedMultiplyAdd(u, q, TLanes.Create(0.23108726739883423f));
    }

    /// <summary>e^t²·erfc(t) for t ≥ 4: 1/√π · 1/(t + (1/2)/(t + (2/2)/(t + …))), 8 levels (relative error below 2e-9).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TLanes ScaledErfcTail<TLanes>(TLanes t) where TLanes : struct, IFloatLanes<TLanes>
    {
        var f = t;
        for (int k = 8; k >= 1; k--) f = t + TLanes.Create(0.5f * k) / f;
        return TLanes.Create(0.56418958f) / f;
    }
}
