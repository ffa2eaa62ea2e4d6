namespace NanoCam.Elementwise;

/// <summary>
/// Scalar functions the operator structs need beyond <see cref="MathF"/>, written with nothing an ILGPU kernel cannot
/// compile (float/double arithmetic, Exp, Log, Floor, Abs, CopySign, the float ↔ bits reinterpretation).
/// </summary>
public static class ScalarMath
{
    private const float TwoPow23 = 8388608f;   // from 2^23 on every float is an integer

    /// <summary>Round to the nearest integer, halves to the even neighbour (IEEE roundTiesToEven, ONNX Round, NumPy round); keeps the sign of zero.</summary>
    public static float RoundHalfToEven(float x)
    {
        if (!(MathF.Abs(x) < TwoPow23)) return x;   // large, ±∞ and NaN
        float floor = MathF.Floor(x), fraction = x - floor;   // exact below 2^23
        bool floorIsOdd = floor - 2f * MathF.Floor(0.5f * floor) != 0f;
        float rounded = fraction > 0.5f || (fraction == 0.5f && floorIsOdd) ? floor + 1f : floor;
        return MathF.CopySign(rounded, x);
    }

    /// <summary>The integer part, rounding toward zero; keeps the sign of zero.</summary>
    public static float Truncate(float x) => MathF.Abs(x) < TwoPow23 ? MathF.CopySign(MathF.Floor(MathF.Abs(x)), x) : x;

    /// <summary>
    /// ln(1 + z) for z ≥ 0 without losing z's digits when z is tiny: with u = fl(1 + z), ln(1 + z) = ln(u)·z/(u − 1)
    /// (Kahan's correction; the rounding of u cancels in the ratio), and z itself when u rounds to 1.
    /// </summary>
    public static float Log1P(float z)
    {
        float u = 1f + z;
        if (u == 1f) return z;
        if (u == float.PositiveInfinity) return u;
        return MathF.Log(u) * z / (u - 1f);
    }

    /// <summary>e^x − 1 without cancellation near 0: with u = fl(e^x), (u − 1)·x/ln(u) (Kahan's correction).</summary>
    public static float ExpM1(float x)
    {
        float u = MathF.Exp(x);
        if (u == 1f) return x;
        float um1 = u - 1f;
        if (um1 == -1f) return -1f;
        if (u == float.PositiveInfinity) return u;
        return um1 * x / MathF.Log(u);
    }

    /// <summary>ln(1 + e^x), overflow-safe: max(x, 0) + ln(1 + e^−|x|).</summary>
    public static float Softplus(float x) => MathF.Max(x, 0f) + Log1P(MathF.Exp(-MathF.Abs(x)));

    /// <summary>1 / (1 + e^−x), with e = e^−|x| ≤ 1 so nothing overflows: x ≥ 0 → 1/(1 + e), x &lt; 0 → e/(1 + e).</summary>
    public static float Sigmoid(float x)
    {
        float e = MathF.Exp(-MathF.Abs(x));
        return x >= 0 ? 1f / (1f + e) : e / (1f + e);
    }

    /// <summary>σ'(x) = σ(x)·σ(−x) = e/(1 + e)² with e = e^−|x| (no 1 − σ cancellation in the tails).</summary>
    public static float SigmoidDerivative(float x)
    {
        float e = MathF.Exp(-MathF.Abs(x)), d = 1f + e;
        return e / (d * d);
    }

    /// <summary>tanh'(x) = 1 − tanh²(x) = 4e/(1 + e)² with e = e^−2|x| (no cancellation in the tails).</summary>
    public static float TanhDerivative(float x)
    {
        float e = MathF.Exp(-2f * MathF.Abs(x)), d = 1f + e;
        return 4f * e / (d * d);
    }

    /// <summary>erf(x) = (2/√π) ∫_0^x e^−t² dt, to about 2e-11 before the final rounding to float (see <see cref="ErfDouble"/>).</summary>
    public static float Erf(float x)
    {
        if (float.IsNaN(x)) return x;
        return MathF.CopySign((float)ErfDouble(Math.Abs((double)x)), x);
    }

    /// <summary>
    /// erf(t) for t ≥ 0, in double:
    ///   t &lt; 1:  erf(t) = t · P(2t² − 1)                    P: degree 8
    ///   t ≥ 1:  erf(t) = 1 − e^−t² · <see cref="ScaledErfc"/>(t)
    /// P is the Chebyshev interpolant of erf(t)/t as a function of s = t² on [0, 1] (60 nodes, cut at degree 8, where the
    /// next Chebyshev coefficient is 8e-13), written in powers of u = 2s − 1. The reference values came from the
    /// all-positive series erf(t) = (2/√π) e^−t² Σ_n 2^n t^(2n+1) / (1·3·…·(2n+1)), which has no cancellation.
    /// </summary>
    public static double ErfDouble(double t)
    {
        if (t < 1)
        {
            double u = 2 * t * t - 1;
            return t * (0.9654687386698851 + u * (-0.1405360890155289 + u * (0.019852496688076857 + u * (-0.0022854856569530864
                + u * (0.0002175171632719852 + u * (-1.7536824697591175E-05 + u * (1.223362557567498E-06
                + u * (-7.557491935964815E-08 + u * 4.138803433306748E-09))))))));
        }
        return 1 - Math.Exp(-t * t) * ScaledErfc(t);
    }

    /// <summary>erfc(t) = 1 − erf(t) for t ≥ 0, in double, with full relative accuracy in the tail (e^−t² · <see cref="ScaledErfc"/>).</summary>
    public static double ErfcDouble(double t) => t < 1 ? 1 - ErfDouble(t) : Math.Exp(-t * t) * ScaledErfc(t);

    /// <summary>
    /// e^t² · erfc(t) for t ≥ 1 (a smooth, slowly falling function, ≈ 1/(t√π)):
    ///   1 ≤ t &lt; 4:  Q((2t − 5)/3), Q the degree-14 Chebyshev interpolant on [1, 4] (max error 5e-11);
    ///   t ≥ 4:      Laplace's continued fraction 1/√π · 1/(t + (1/2)/(t + (2/2)/(t + (3/2)/(t + …)))), 8 levels
    ///              (relative error below 2e-9 from t = 4 on).
    /// Q's reference values came from the same continued fraction taken 20000 levels deep.
    /// </summary>
    public static double ScaledErfc(double t)
    {
        if (t < 4)
        {
            double u = (2 * t - 5) / 3;
            return 0.21080636405462638 + u * (-0.11152102074917547 + u * (0.056110494273139196 + u * (-0.027005275783511768
                + u * (0.01248935664973027 + u * (-0.005570928959372345 + u * (0.00240378382620694 + u * (-0.0010047884605274505
                + u * (0.00040855915225653417 + u * (-0.0001644974542012771 + u * (6.367236908223124E-05 + u * (-2.0489638531747306E-05
                + u * (7.473546171847071E-06 + u * (-5.05818000722987E-06 + u * 1.813012325631765E-06)))))))))))));
        }
        double f = t;
        for (int k = 8; k >= 1; k--) f = t + 0.5 * k / f;
        return 0.56418958354775628 / f;   // 1/√π
    }

    /// <summary>
    /// The float nearest to x among IEEE half-precision values (ties to even; beyond 65520 → ±∞; subnormals below 2^−14),
    /// what a cast to <see cref="Half"/> and back gives, written with arithmetic a kernel can run.
    /// </summary>
    public static float RoundToHalf(float x)
    {
        float a = MathF.Abs(x);
        if (!(a < 65520f)) return float.IsNaN(x) ? x : MathF.CopySign(float.PositiveInfinity, x);
        // The spacing of halves around a: 2^(e − 10) for a normal half with exponent e ≥ −14, else the subnormal step 2^−24.
        int exponent = ((BitConverter.SingleToInt32Bits(a) >> 23) & 0xFF) - 127;
        int quantumExponent = Math.Max(exponent, -14) - 10;
        float quantum = BitConverter.Int32BitsToSingle((quantumExponent + 127) << 23);
        // a / quantum and the product back are exact (powers of two, far from float's limits).
        return MathF.CopySign(RoundHalfToEven(a / quantum) * quantum, x);
    }

    /// <summary>The nearest bfloat16 (float's upper 16 bits) with ties to even; NaN stays NaN, overflow becomes ±∞.</summary>
    public static float RoundToBFloat16(float x)
    {
        if (float.IsNaN(x)) return x;
        int bits = BitConverter.SingleToInt32Bits(x);
        // Add just under half of the dropped 16 bits' range, plus one when the kept part is odd: a carry rounds up.
        bits += 0x7FFF + ((bits >> 16) & 1);
        return BitConverter.Int32BitsToSingle(bits & unchecked((int)0xFFFF0000));
    }
}
