using System.Runtime.Intrinsics;
using NanoCam.Cpu.Simd;
using NanoCam.Elementwise;
using Xunit.Abstractions;

namespace NanoCam.Cpu.Tests;

/// <summary>
/// The vector bodies of the activation structs (<see cref="IVectorUnaryFunction"/>) against a double-precision reference
/// written here from the definitions, over a dense grid on [−20, 20] plus the tails out to ±1e4 and the special values,
/// in both widths (Vector512 and Vector256, called directly) and through the SIMD kernel; the error is counted in units
/// in the last place of the float nearest the reference.
/// </summary>
public class VectorFunctionTests(ITestOutputHelper log)
{
    private static float[] Grid()
    {
        var values = new List<float>();
        for (int i = -200_000; i <= 200_000; i++) values.Add(i * 1e-4f);
        for (float a = 20f; a < 1e4f; a *= 1.01f) { values.Add(a); values.Add(-a); }
        for (float a = 1e-30f; a < 1e-4f; a *= 1.7f) { values.Add(a); values.Add(-a); }
        values.AddRange([0f, -0f, 1e4f, -1e4f, 1e-40f, -1e-40f, float.Epsilon, float.MaxValue, float.MinValue]);
        return [.. values];
    }

    /// <summary>
    /// The error of <paramref name="value"/> in ulps of the float nearest <paramref name="reference"/>; a reference within
    /// 2^−119 of float's subnormal range (where a float, or a factor on the way to it, keeps fewer digits: GELU's Φ below
    /// x = −13) only asks for |error| &lt; 2^−119 (counted 0 or ∞).
    /// </summary>
    private static double Ulps(float value, double reference)
    {
        if (double.IsNaN(reference)) return float.IsNaN(value) ? 0 : double.PositiveInfinity;
        float r = (float)reference;
        if (float.IsInfinity(r) || float.IsInfinity(value)) return value == r ? 0 : double.PositiveInfinity;
        float a = MathF.Abs(r);
        const double tiny = 1.5046328e-36;   // 2^−119
        if (a < tiny) return Math.Abs(value - reference) < tiny ? 0 : double.PositiveInfinity;
        double spacing = MathF.BitIncrement(a) - a;
        return Math.Abs(value - reference) / spacing;
    }

    private static double Log1P(double z) => Math.Abs(z) < 1e-8 ? z - z * z / 2 : Math.Log(1 + z);
    private static double ExpM1(double x) => Math.Abs(x) < 1e-5 ? x + x * x / 2 + x * x * x / 6 : Math.Exp(x) - 1;
    private static double Softplus(double x) => Math.Max(x, 0) + Log1P(Math.Exp(-Math.Abs(x)));
    private static double Sigmoid(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));
    private static double Erf(double x) => double.IsNaN(x) ? x : Math.CopySign(ScalarMath.ErfDouble(Math.Abs(x)), x);
    private static double NormalCdf(double x) => x >= 0 ? 0.5 + 0.5 * ScalarMath.ErfDouble(x / Math.Sqrt(2)) : 0.5 * ScalarMath.ErfcDouble(-x / Math.Sqrt(2));

    public static TheoryData<string, double> Bounds => new()
    {
        // function, the largest error allowed in ulps (what was measured, rounded up)
        // measured (scalar functions in brackets): Erf 2.22 (0.50), Gelu 5.94 at x = −11.4 (1.44), Tanh 1.74 (1.92),
        // Sigmoid 3.24 (2.13), Silu 4.01 (3.09), Softplus 3.71 (2.57), Elu 3.44 (2.55), Selu 3.85 (3.16), Celu 3.74 (3.04), Mish 4.67 (4.32)
        { "Erf", 2.5 }, { "Gelu", 6 }, { "Tanh", 2 }, { "Sigmoid", 3.5 }, { "Silu", 4.5 }, { "Softplus", 4 },
        { "Elu", 4 }, { "Selu", 4 }, { "Celu", 4 }, { "Mish", 5 },
    };

    [Theory]
    [MemberData(nameof(Bounds))]
    public void VectorValue_IsWithinItsUlpBound_OfTheDoubleReference(string function, double bound)
    {
        switch (function)
        {
            case "Erf": Measure(new Erf(), Erf, bound); break;
            case "Gelu": Measure(new Gelu(), x => x * NormalCdf(x), bound); break;
            case "Tanh": Measure(new Tanh(), Math.Tanh, bound); break;
            case "Sigmoid": Measure(new Sigmoid(), Sigmoid, bound); break;
            case "Silu": Measure(new Silu(), x => x * Sigmoid(x), bound); break;
            case "Softplus": Measure(new Softplus(), Softplus, bound); break;
            case "Elu": Measure(new Elu(0.7f), x => x > 0 ? x : 0.7f * ExpM1(x), bound); break;
            case "Selu": Measure(new Selu(1.6732632f, 1.050701f), x => 1.050701f * (x > 0 ? x : 1.6732632f * ExpM1(x)), bound); break;
            case "Celu": Measure(new Celu(1.5f), x => x > 0 ? x : 1.5f * ExpM1(x / 1.5f), bound); break;
            case "Mish": Measure(new Mish(), x => x * Math.Tanh(Softplus(x)), bound); break;
            default: throw new ArgumentException(function);
        }
    }

    private void Measure<TOp>(TOp op, Func<double, double> reference, double bound) where TOp : struct, IVectorUnaryFunction
    {
        var x = Grid();
        int n = x.Length & ~15;
        var wide = new float[n];
        var narrow = new float[n];
        for (int i = 0; i < n; i += 16)
        {
            op.VectorValue<Lanes512>(Vector512.Create(x.AsSpan(i, 16))).Vector.CopyTo(wide, i);
            op.VectorValue<Lanes256>(Vector256.Create(x.AsSpan(i, 8))).Vector.CopyTo(narrow, i);
            op.VectorValue<Lanes256>(Vector256.Create(x.AsSpan(i + 8, 8))).Vector.CopyTo(narrow, i + 8);
        }
        var output = Tensor.Zeros(x.Length);
        new SimdKernels(threads: 1).UnaryForward(output, Tensor.FromArray(x, x.Length), op);
        var kernel = output.ToArray();
        double worst = 0, worstScalar = 0;
        float worstAt = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double r = reference(x[i]);
            double e = Ulps(kernel[i], r);
            if (i < n)
            {
                Assert.True(wide[i].Equals(kernel[i]), $"{op.Name}({x[i]:R}): the kernel gave {kernel[i]:R}, Vector512 {wide[i]:R}");
                e = Math.Max(e, Ulps(narrow[i], r));
            }
            if (e > worst) (worst, worstAt) = (e, x[i]);
            worstScalar = Math.Max(worstScalar, Ulps(op.Value(x[i]), r));
            Assert.True(e <= bound, $"{op.Name}({x[i]:R}) = {kernel[i]:R} (Vector256 {(i < n ? narrow[i] : float.NaN):R}), reference {r:R}: {e:F2} ulp > {bound}");
        }
        log.WriteLine($"{op.Name}: {x.Length} points, vector max {worst:F2} ulp (at {worstAt:R}), scalar max {worstScalar:F2} ulp");
    }

    public static TheoryData<string, double> DerivativeBounds => new()
    {
        // measured (scalar derivatives in brackets): Relu 0 (0), Sigmoid 5.09 (4.11), Tanh 5.09 (3.84), Erf 4.00 (64.0, its
        // float x² in the tail), Gelu 2.12 (1.98) and Silu 2.87 (2.90) in ulps of 1
        { "Relu", 0 }, { "Sigmoid", 5.5 }, { "Tanh", 5.5 }, { "Erf", 4.5 }, { "Gelu", 2.5 }, { "Silu", 3 },
        // measured (scalar derivatives in brackets): Softplus 3.24 (2.13), Mish 3.10 (9.49) in ulps of 1, Elu 2.71 (1.19),
        // Selu 2.92 (1.86), Celu 36.05 at x = −118.7 (37.05: x/α rounded, then e^(x/α) with |x/α| ≈ 79), Softsign 3.35 (3.35),
        // LeakyRelu, Clip and HardSigmoid 0 (0), HardSwish and HardSigmoidGate 1.33 (1.33) in ulps of 1
        { "Softplus", 3.5 }, { "Mish", 3.5 }, { "Elu", 3 }, { "Selu", 3.5 }, { "Celu", 36.5 }, { "Softsign", 3.5 },
        { "LeakyRelu", 0 }, { "Clip", 0 }, { "HardSigmoid", 0 }, { "HardSwish", 1.5 }, { "HardSigmoidGate", 1.5 },
    };

    /// <summary>The derivatives of the definitions, in double, for the functions with a vector derivative.</summary>
    private static double SigmoidPrime(double x) { double e = Math.Exp(-Math.Abs(x)); return e / ((1 + e) * (1 + e)); }
    private static double MishPrime(double x) { double t = Math.Tanh(Softplus(x)); return t + x * (1 - t * t) * Sigmoid(x); }

    [Theory]
    [MemberData(nameof(DerivativeBounds))]
    public void VectorDerivative_IsWithinItsUlpBound_OfTheDoubleReference(string function, double bound)
    {
        switch (function)
        {
            case "Relu": MeasureDerivative(new Relu(), x => x > 0 ? 1 : 0, bound); break;
            case "Sigmoid": MeasureDerivative(new Sigmoid(), SigmoidPrime, bound); break;
            case "Tanh": MeasureDerivative(new Tanh(), x => { double e = Math.Exp(-2 * Math.Abs(x)); return 4 * e / ((1 + e) * (1 + e)); }, bound); break;
            case "Erf": MeasureDerivative(new Erf(), x => 2 / Math.Sqrt(Math.PI) * Math.Exp(-x * x), bound); break;
            // Φ + x·φ, σ + x·σ' and Mish' pass through zero (at x ≈ −0.75, −1.28 and −1.19): counted in ulps of 1, the size of their terms.
            case "Gelu": MeasureDerivative(new Gelu(), x => NormalCdf(x) + x * Math.Exp(-x * x / 2) / Math.Sqrt(2 * Math.PI), bound, ulpsOfOne: true); break;
            case "Silu": MeasureDerivative(new Silu(), x => Sigmoid(x) + x * SigmoidPrime(x), bound, ulpsOfOne: true); break;
            case "Mish": MeasureDerivative(new Mish(), MishPrime, bound, ulpsOfOne: true); break;
            case "Softplus": MeasureDerivative(new Softplus(), Sigmoid, bound); break;
            case "Elu": MeasureDerivative(new Elu(0.7f), x => x > 0 ? 1 : 0.7f * Math.Exp(x), bound); break;
            case "Selu": MeasureDerivative(new Selu(1.6732632f, 1.050701f), x => 1.050701f * (x > 0 ? 1 : 1.6732632f * Math.Exp(x)), bound); break;
            case "Celu": MeasureDerivative(new Celu(1.5f), x => x > 0 ? 1 : Math.Exp(x / 1.5f), bound); break;
            case "Softsign": MeasureDerivative(new Softsign(), x => 1 / ((1 + Math.Abs(x)) * (1 + Math.Abs(x))), bound); break;
            case "LeakyRelu": MeasureDerivative(new LeakyRelu(0.1f), x => x > 0 ? 1 : 0.1f, bound); break;
            case "Clip": MeasureDerivative(new Clip(-1f, 6f), x => x >= -1 && x <= 6 ? 1 : 0, bound); break;
            case "HardSigmoid": MeasureDerivative(new HardSigmoid(0.2f, 0.5f), x => 0.2f * (float)x + 0.5f is > 0f and < 1f ? 0.2f : 0, bound); break;
            // The middle piece x/3 + 1/2 crosses zero at −1.5: ulps of 1.
            case "HardSwish": MeasureDerivative(new HardSwish(), x => x < -3 ? 0 : x <= 3 ? x / 3 + 0.5 : 1, bound, ulpsOfOne: true); break;
            case "HardSigmoidGate":
                MeasureDerivative(new HardSigmoidGate(1f / 6, 0.5f), x =>
                {
                    float z = 1f / 6 * (float)x + 0.5f;   // the kinks where the float z reaches 0 and 1, as the function has them
                    return Math.Clamp(x / 6 + 0.5, 0, 1) + (z is > 0f and < 1f ? x / 6 : 0);
                }, bound, ulpsOfOne: true);
                break;
            default: throw new ArgumentException(function);
        }
    }

    /// <summary>
    /// Every vector derivative against central differences (h = 1e-4) of the function's definition in double, away from
    /// its kinks, and against the scalar <see cref="IUnaryFunction.Derivative"/>: through the kernel (Vector512 here) and
    /// Vector256 called directly.
    /// </summary>
    [Fact]
    public void VectorDerivative_MatchesCentralDifferences_AndTheScalarDerivative()
    {
        Check(new Relu(), x => Math.Max(x, 0));
        Check(new LeakyRelu(0.1f), x => x > 0 ? x : 0.1f * x);
        Check(new Sigmoid(), Sigmoid);
        Check(new Tanh(), Math.Tanh);
        Check(new Clip(-1f, 2.5f), x => Math.Clamp(x, -1f, 2.5f));
        Check(new HardSigmoid(0.2f, 0.5f), x => Math.Clamp(0.2f * x + 0.5f, 0, 1));
        Check(new HardSwish(), x => x * Math.Clamp(x + 3, 0, 6) / 6);
        Check(new Softplus(), Softplus);
        Check(new Softsign(), x => x / (1 + Math.Abs(x)));
        Check(new Elu(0.7f), x => x > 0 ? x : 0.7f * ExpM1(x));
        Check(new Selu(1.6732632f, 1.050701f), x => 1.050701f * (x > 0 ? x : 1.6732632f * ExpM1(x)));
        Check(new Celu(1.5f), x => x > 0 ? x : 1.5f * ExpM1(x / 1.5f));
        Check(new Mish(), x => x * Math.Tanh(Softplus(x)));
        Check(new Erf(), Erf);
        Check(new Gelu(), x => x * NormalCdf(x));
        Check(new Silu(), x => x * Sigmoid(x));
        Check(new HardSigmoidGate(1f / 6, 0.5f), x => x * Math.Clamp(x / 6 + 0.5, 0, 1));

        void Check<TOp>(TOp op, Func<double, double> definition) where TOp : struct, IVectorUnaryGradient
        {
            // x = −8.003, −7.993, …: no point within 1e-3 of a kink (0, ±1, ±2.5, ±3).
            var x = Enumerable.Range(0, 1601).Select(i => -8.003f + i * 0.01f).ToArray();
            var (y, kernel) = KernelDerivative(op, x);
            const double h = 1e-4;
            double worstDifference = 0, worstScalar = 0;
            for (int i = 0; i < x.Length; i++)
            {
                double fd = (definition(x[i] + h) - definition(x[i] - h)) / (2 * h);
                float narrow = op.VectorDerivative<Lanes256>(Vector256.Create(x[i]), Vector256.Create(y[i]))[0], scalar = op.Derivative(x[i], y[i]);
                foreach (var vector in (ReadOnlySpan<float>)[kernel[i], narrow])
                {
                    double difference = Math.Abs(vector - fd) / (1 + Math.Abs(fd)), fromScalar = Math.Abs(vector - scalar) / (1 + Math.Abs(scalar));
                    (worstDifference, worstScalar) = (Math.Max(worstDifference, difference), Math.Max(worstScalar, fromScalar));
                    Assert.True(difference <= 2e-6, $"{op.Name}'({x[i]:R}) = {vector:R}, central difference {fd:R}");
                    Assert.True(fromScalar <= 1e-6, $"{op.Name}'({x[i]:R}) = {vector:R}, scalar derivative {scalar:R}");
                }
            }
            log.WriteLine($"{op.Name}': max |vector − central difference|/(1 + |·|) = {worstDifference:E2}, from the scalar derivative {worstScalar:E2}");
        }
    }

    /// <summary>y = f(x) (scalar) and f'(x, y) through the SIMD kernel's backward: dx = 0 + f'(x, y)·1.</summary>
    private static (float[] Y, float[] Derivative) KernelDerivative<TOp>(TOp op, float[] x) where TOp : struct, IVectorUnaryGradient
    {
        var y = x.Select(op.Value).ToArray();
        var dx = Tensor.Zeros(x.Length);
        var ones = Tensor.Zeros(x.Length);
        ones.Span.Fill(1f);
        new SimdKernels(threads: 1).UnaryBackward(dx, ones, Tensor.FromArray(x, x.Length), Tensor.FromArray(y, y.Length), op);
        return (y, dx.ToArray());
    }

    private void MeasureDerivative<TOp>(TOp op, Func<double, double> reference, double bound, bool ulpsOfOne = false) where TOp : struct, IVectorUnaryGradient
    {
        double Error(float value, double r) => ulpsOfOne ? Math.Abs(value - r) * (1 << 24) : Ulps(value, r);
        var x = Grid().Where(v => MathF.Abs(v) < 1e3f).ToArray();
        int n = x.Length & ~15;
        var (y, kernel) = KernelDerivative(op, x);
        double worst = 0, worstScalar = 0;
        float worstAt = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double r = reference(x[i]), e = Error(kernel[i], r);
            if (i + 8 <= n)
            {
                var narrow = op.VectorDerivative<Lanes256>(Vector256.Create(x.AsSpan(i, 8)), Vector256.Create(y.AsSpan(i, 8)))[0];
                e = Math.Max(e, Error(narrow, r));
            }
            if (e > worst) (worst, worstAt) = (e, x[i]);
            worstScalar = Math.Max(worstScalar, Error(op.Derivative(x[i], y[i]), r));
            Assert.True(e <= bound, $"{op.Name}'({x[i]:R}) = {kernel[i]:R}, reference {r:R}: {e:F2} ulp > {bound}");
        }
        log.WriteLine($"{op.Name}': {x.Length} points, vector max {worst:F2} ulp (at {worstAt:R}), scalar max {worstScalar:F2} ulp");
    }

    [Fact]
    public void VectorValue_KeepsNaNAndInfinities_AsTheScalarFunction()
    {
        float[] specials = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, 1e-40f, 88.8f, -104f];
        Check(new Erf()); Check(new Gelu()); Check(new Tanh()); Check(new Sigmoid()); Check(new Silu()); Check(new Softplus());
        Check(new Elu(1f)); Check(new Mish()); Check(new Relu()); Check(new Clip(-1f, 6f)); Check(new HardSwish());
        Check(new HardSigmoid(0.2f, 0.5f)); Check(new HardSigmoidGate(1f / 6, 0.5f)); Check(new LeakyRelu(0.1f)); Check(new Softsign());

        void Check<TOp>(TOp op) where TOp : struct, IVectorUnaryFunction
        {
            var lanes = new float[16];
            specials.CopyTo(lanes, 0);
            var wide = op.VectorValue<Lanes512>(Vector512.Create(lanes));
            var narrow = op.VectorValue<Lanes256>(Vector256.Create(lanes.AsSpan(0, 8)));
            for (int i = 0; i < specials.Length; i++)
            {
                float s = op.Value(specials[i]);
                string what = $"{op.Name}({specials[i]:R}): scalar {s:R}, Vector512 {wide[i]:R}, Vector256 {narrow[i]:R}";
                Assert.True(float.IsNaN(s) == float.IsNaN(wide[i]) && float.IsNaN(s) == float.IsNaN(narrow[i]), what);
                if (float.IsNaN(s)) continue;
                Assert.True(Math.Abs(s - wide[i]) <= 4e-7 * Math.Abs(s) + 1e-37 && Math.Abs(s - narrow[i]) <= 4e-7 * Math.Abs(s) + 1e-37 || s == wide[i] && s == narrow[i], what);
            }
        }
    }
}
