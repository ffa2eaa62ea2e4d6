using NanoCam.Elementwise;
using R = NanoCam.Core.Tests.DoubleReference;

namespace NanoCam.Core.Tests;

/// <summary>
/// Every operator struct of NanoCam.Elementwise against double-precision math: values to ~1e-6 relative (Erf to 1e-7
/// absolute) over its domain and out to |x| = 1e4 where the function is defined there, derivatives against central
/// differences of the double reference, and the rounding functions against exact tables.
/// </summary>
public class ElementwiseFunctionTests
{
    /// <summary>One unary function: the struct, its double reference, a domain, kinks to keep away from, an absolute tolerance floor.</summary>
    private sealed record UnaryCase(IUnaryFunction Op, Func<double, double> Reference, double Low, double High, bool Extremes = false, double[]? Kinks = null, double Absolute = 0);

    private const double SeluAlpha = 1.67326319217681884765625, SeluGamma = 1.05070102214813232421875;

    private static readonly Dictionary<string, UnaryCase> Unary = new UnaryCase[]
    {
        new(new Tanh(), Math.Tanh, -10, 10, Extremes: true),
        new(new Exp(), Math.Exp, -20, 20),
        new(new Log(), Math.Log, 1e-3, 1e3),
        new(new Sqrt(), Math.Sqrt, 1e-4, 1e4),
        new(new Neg(), x => -x, -10, 10, Extremes: true),
        new(new Abs(), Math.Abs, -10, 10, Extremes: true, Kinks: [0]),
        new(new Reciprocal(), x => 1 / x, 0.01, 100),
        new(new Square(), x => x * x, -100, 100),
        new(new PowScalar(2.5f), x => Math.Pow(x, 2.5), 0.01, 10),
        new(new PowScalar(3f), x => x * x * x, -5, 5),
        new(new Scale(-1.5f), x => -1.5 * x, -10, 10, Extremes: true),
        new(new Shift(0.25f), x => x + 0.25, -10, 10, Absolute: 1e-7),
        new(new Erf(), R.Erf, -6, 6, Extremes: true, Absolute: 1e-7),
        new(new Gelu(), x => x * R.NormalCdf(x), -12, 12, Extremes: true),
        new(new GeluTanh(), x => x * R.Sigmoid(2 * Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)), -12, 12, Extremes: true),
        new(new HardSigmoid(0.2f, 0.5f), x => Math.Max(0, Math.Min(1, 0.2 * x + 0.5)), -5, 5, Extremes: true, Kinks: [-2.5, 2.5], Absolute: 1e-7),
        new(new HardSwish(), x => x * Math.Max(0, Math.Min(1, x / 6 + 0.5)), -6, 6, Extremes: true, Kinks: [-3, 3]),
        new(new Softplus(), R.Softplus, -30, 30, Extremes: true),
        new(new Softsign(), x => x / (1 + Math.Abs(x)), -10, 10, Extremes: true, Kinks: [0]),
        new(new Elu(1.3f), x => x > 0 ? x : 1.3 * R.ExpM1(x), -30, 10, Extremes: true, Kinks: [0]),
        new(new Selu(1.67326319217681884765625f, 1.05070102214813232421875f), x => SeluGamma * (x > 0 ? x : SeluAlpha * R.ExpM1(x)), -30, 10, Extremes: true, Kinks: [0]),
        new(new Celu(0.7f), x => x > 0 ? x : 0.7 * R.ExpM1(x / 0.7), -30, 10, Extremes: true, Kinks: [0]),
        new(new Mish(), x => x * Math.Tanh(R.Softplus(x)), -30, 30, Extremes: true),
        new(new Sigmoid(), R.Sigmoid, -40, 40, Extremes: true),
        new(new LeakyRelu(0.1f), x => x > 0 ? x : 0.1 * x, -10, 10, Extremes: true, Kinks: [0]),
        new(new Relu(), x => Math.Max(x, 0), -10, 10, Extremes: true, Kinks: [0]),
        new(new Clip(-0.5f, 0.7f), x => Math.Min(Math.Max(x, -0.5), 0.7), -3, 3, Extremes: true, Kinks: [-0.5, 0.7], Absolute: 1e-7),
    }.ToDictionary(c => c.Op.Name + (c.Op is PowScalar p ? p.Exponent.ToString() : ""));

    public static TheoryData<string> UnaryNames => [.. Unary.Keys];

    /// <summary>The test points: a grid over the domain (floats), plus ±1e4, ±100 and ±30 for functions defined out there.</summary>
    private static IEnumerable<float> Points(UnaryCase c)
    {
        for (int i = 0; i <= 4000; i++) yield return (float)(c.Low + (c.High - c.Low) * i / 4000);
        if (c.Extremes) foreach (var x in new[] { 1e4f, -1e4f, 100f, -100f, 30f, -30f, 1e-6f, -1e-6f, 0f }) yield return x;
    }

    [Theory]
    [MemberData(nameof(UnaryNames))]
    public void UnaryValue_MatchesDoublePrecision(string name)
    {
        var c = Unary[name];
        foreach (float x in Points(c))
        {
            double expected = c.Reference(x), actual = c.Op.Value(x);
            // Below float's smallest normal number (1.2e-38) only absolute accuracy is possible.
            Assert.True(Math.Abs(actual - expected) <= 1e-6 * Math.Abs(expected) + Math.Max(c.Absolute, 1e-38),
                $"{name}({x:R}) = {actual:R}, double precision gives {expected:R}");
        }
    }

    [Theory]
    [MemberData(nameof(UnaryNames))]
    public void UnaryDerivative_MatchesCentralDifferencesOfTheDoubleReference(string name)
    {
        var c = Unary[name];
        foreach (float x in Points(c))
        {
            if (c.Kinks is not null && c.Kinks.Any(k => Math.Abs(x - k) < 1e-3)) continue;
            double h = 1e-5 * Math.Max(Math.Abs(x), 1e-3);
            double expected = (c.Reference(x + h) - c.Reference(x - h)) / (2 * h);
            double actual = c.Op.Derivative(x, c.Op.Value(x));
            Assert.True(Math.Abs(actual - expected) <= 1e-5 * Math.Abs(expected) + 1e-6,
                $"{name}'({x:R}) = {actual:R}, central difference of the double reference {expected:R}");
        }
    }

    [Fact]
    public void Erf_MatchesTheDoubleSeriesTo1e7_AndIsOdd()
    {
        var erf = new Erf();
        var rng = new Random(5);
        for (int i = 0; i < 20000; i++)
        {
            float x = (float)(rng.NextDouble() * 12 - 6);
            Assert.True(Math.Abs(erf.Value(x) - R.Erf(x)) <= 1e-7, $"erf({x:R}) = {erf.Value(x):R}, series {R.Erf(x):R}");
            Assert.Equal(-erf.Value(x), erf.Value(-x));
        }
        Assert.Equal(0f, erf.Value(0f));
        Assert.Equal(1f, erf.Value(10f));
        Assert.Equal(-1f, erf.Value(float.NegativeInfinity));
        Assert.True(float.IsNaN(erf.Value(float.NaN)));
        // A hand check against tables: erf(0.5) = 0.5204998778, erf(1) = 0.8427007929, erf(2) = 0.9953222650.
        Assert.Equal(0.5204998778, erf.Value(0.5f), 7);
        Assert.Equal(0.8427007929, erf.Value(1f), 7);
        Assert.Equal(0.9953222650, erf.Value(2f), 7);
    }

    [Theory]
    [InlineData(0.5f, 0f)]
    [InlineData(1.5f, 2f)]
    [InlineData(2.5f, 2f)]
    [InlineData(3.5f, 4f)]
    [InlineData(-0.5f, -0f)]
    [InlineData(-1.5f, -2f)]
    [InlineData(-2.5f, -2f)]
    [InlineData(2.4999998f, 2f)]
    [InlineData(2.6f, 3f)]
    [InlineData(-0.3f, -0f)]
    [InlineData(8388609f, 8388609f)]
    [InlineData(4194304.5f, 4194304f)]
    [InlineData(4194305.5f, 4194306f)]
    [InlineData(float.PositiveInfinity, float.PositiveInfinity)]
    public void Round_IsHalfToEven_LikeOnnxRound(float x, float expected)
    {
        float actual = new Round().Value(x);
        Assert.Equal(expected, actual);
        Assert.Equal(float.IsNegative(expected), float.IsNegative(actual));
        Assert.Equal(MathF.Round(x, MidpointRounding.ToEven), actual);
    }

    [Fact]
    public void FloorCeilTruncateSign_MatchTheirDefinitions_AndHaveZeroDerivative()
    {
        float[] xs = [-2.5f, -1.7f, -1f, -0.2f, -0f, 0f, 0.2f, 1f, 1.7f, 2.5f, 1e9f, -1e9f];
        foreach (float x in xs)
        {
            Assert.Equal(MathF.Floor(x), new Floor().Value(x));
            Assert.Equal(MathF.Ceiling(x), new Ceil().Value(x));
            Assert.Equal(MathF.Truncate(x), new Truncate().Value(x));
            Assert.Equal(float.IsNegative(MathF.Truncate(x)), float.IsNegative(new Truncate().Value(x)));
            Assert.Equal(x > 0 ? 1f : x < 0 ? -1f : 0f, new Sign().Value(x));
            foreach (IUnaryFunction op in new IUnaryFunction[] { new Floor(), new Ceil(), new Round(), new Truncate(), new Sign() })
                Assert.Equal(0f, op.Derivative(x, op.Value(x)));
        }
        Assert.True(float.IsNaN(new Sign().Value(float.NaN)));
    }

    [Fact]
    public void RoundToHalf_MatchesTheSystemHalfCast_IncludingTiesSubnormalsAndOverflow()
    {
        var op = new RoundToHalf();
        var rng = new Random(11);
        var values = new List<float> { 0f, -0f, 65504f, 65519.99f, 65520f, -65520f, 1e6f, 5.96e-8f, 2.98e-8f, 2.99e-8f, 6.1e-5f, 1.0009765625f + 0.00048828125f, 1f + 0.00048828125f * 3 };
        for (int i = 0; i < 200000; i++)
        {
            // Random bit patterns cover every exponent; plus values on and beside half-precision ties.
            values.Add(BitConverter.Int32BitsToSingle(rng.Next()) * (rng.Next(2) == 0 ? 1 : -1));
            float h = (float)(Half)(float)(rng.NextDouble() * 100);
            float next = (float)BitConverter.UInt16BitsToHalf((ushort)(BitConverter.HalfToUInt16Bits((Half)h) + 1));
            values.Add((h + next) / 2);
        }
        foreach (float x in values)
        {
            float expected = (float)(Half)x, actual = op.Value(x);
            Assert.True(expected.Equals(actual) && float.IsNegative(expected) == float.IsNegative(actual), $"(Half){x:R} = {expected:R}, RoundToHalf gives {actual:R}");
        }
        Assert.True(float.IsNaN(op.Value(float.NaN)));
        Assert.Equal(1f, op.Derivative(3f, op.Value(3f)));
    }

    [Fact]
    public void RoundToBFloat16_RoundsToNearestEven_OnTheUpper16Bits()
    {
        var op = new RoundToBFloat16();
        var rng = new Random(12);
        for (int i = 0; i < 200000; i++)
        {
            float x = BitConverter.Int32BitsToSingle(rng.Next()) * (rng.Next(2) == 0 ? 1 : -1);
            if (i % 3 == 0) x = BitConverter.Int32BitsToSingle((BitConverter.SingleToInt32Bits(x) & ~0xFFFF) | 0x8000);   // an exact tie
            if (float.IsNaN(x)) continue;
            // The two bfloat16 neighbours of x and the nearer one (the even one on a tie), by double arithmetic.
            int bits = BitConverter.SingleToInt32Bits(x);
            float down = BitConverter.Int32BitsToSingle(bits & ~0xFFFF), up = BitConverter.Int32BitsToSingle((bits & ~0xFFFF) + 0x10000);
            double dDown = Math.Abs((double)x - down), dUp = float.IsInfinity(up) ? Math.Abs((double)x - Math.CopySign(Math.Pow(2, 128), x)) : Math.Abs((double)x - up);
            float expected = dDown < dUp ? down : dUp < dDown ? up : (bits & 0x10000) == 0 ? down : up;
            Assert.Equal(expected, op.Value(x));
        }
        Assert.Equal(1f, op.Value(1f));
        Assert.Equal(1.0078125f, op.Value(1.00390625f + 1e-7f));   // just above the tie between 1 and 1 + 2^−7 rounds up
        Assert.Equal(1f, op.Value(1.00390625f));                    // the tie itself goes to the even neighbour, 1
        Assert.True(float.IsNaN(op.Value(float.NaN)));
    }

    [Fact]
    public void BinaryFunctions_Values_MatchTheirDefinitions()
    {
        Assert.Equal(8f, new Pow().Value(2f, 3f));
        Assert.Equal(0.5f, new Pow().Value(4f, -0.5f));
        Assert.Equal(3f, new Maximum().Value(3f, -1f));
        Assert.Equal(-1f, new Minimum().Value(3f, -1f));
        Assert.True(float.IsNaN(new Maximum().Value(float.NaN, 1f)) && float.IsNaN(new Maximum().Value(1f, float.NaN)));
        Assert.True(float.IsNaN(new Minimum().Value(float.NaN, 1f)) && float.IsNaN(new Minimum().Value(1f, float.NaN)));
        Assert.Equal(-0.5f, new PRelu().Value(-2f, 0.25f));
        Assert.Equal(2f, new PRelu().Value(2f, 0.25f));
        // fmod keeps the dividend's sign (C, ONNX Mod with fmod = 1).
        Assert.Equal(1.5f, new Mod().Value(5.5f, 2f));
        Assert.Equal(-1.5f, new Mod().Value(-5.5f, 2f));
        Assert.Equal(1.5f, new Mod().Value(5.5f, -2f));
        Assert.Equal(-2f, new Mod().DerivativeB(5.5f, 2f, 1.5f));
        Assert.Equal(2f, new Mod().DerivativeB(-5.5f, 2f, -1.5f));
        (float A, float B)[] pairs = [(1, 2), (2, 1), (2, 2), (0, 0), (0, 1), (float.NaN, 1), (float.NaN, 0), (-0f, 0f)];
        foreach (var (a, b) in pairs)
        {
            Assert.Equal(a == b ? 1f : 0f, new Equal().Value(a, b));
            Assert.Equal(a < b ? 1f : 0f, new Less().Value(a, b));
            Assert.Equal(a > b ? 1f : 0f, new Greater().Value(a, b));
            Assert.Equal(a <= b ? 1f : 0f, new LessOrEqual().Value(a, b));
            Assert.Equal(a >= b ? 1f : 0f, new GreaterOrEqual().Value(a, b));
            bool ta = a != 0, tb = b != 0;   // NaN is true
            Assert.Equal(ta && tb ? 1f : 0f, new And().Value(a, b));
            Assert.Equal(ta || tb ? 1f : 0f, new Or().Value(a, b));
            Assert.Equal(ta ^ tb ? 1f : 0f, new Xor().Value(a, b));
            foreach (IBinaryFunction op in new IBinaryFunction[] { new Equal(), new Less(), new Greater(), new LessOrEqual(), new GreaterOrEqual(), new And(), new Or(), new Xor() })
            {
                Assert.Equal(0f, op.DerivativeA(a, b, op.Value(a, b)));
                Assert.Equal(0f, op.DerivativeB(a, b, op.Value(a, b)));
            }
        }
    }

    [Fact]
    public void MaximumAndMinimum_SplitTheGradientOnTies_AndSendItToTheWinnerOtherwise()
    {
        Assert.Equal((1f, 0f), (new Maximum().DerivativeA(3, 1, 3), new Maximum().DerivativeB(3, 1, 3)));
        Assert.Equal((0f, 1f), (new Maximum().DerivativeA(1, 3, 3), new Maximum().DerivativeB(1, 3, 3)));
        Assert.Equal((0.5f, 0.5f), (new Maximum().DerivativeA(2, 2, 2), new Maximum().DerivativeB(2, 2, 2)));
        Assert.Equal((0f, 1f), (new Minimum().DerivativeA(3, 1, 1), new Minimum().DerivativeB(3, 1, 1)));
        Assert.Equal((0.5f, 0.5f), (new Minimum().DerivativeA(2, 2, 2), new Minimum().DerivativeB(2, 2, 2)));
        // PRelu: slope side at 0 (PyTorch); ∂/∂slope = x there.
        Assert.Equal((0.25f, -2f), (new PRelu().DerivativeA(-2, 0.25f, 0.5f), new PRelu().DerivativeB(-2, 0.25f, 0.5f)));
        Assert.Equal((1f, 0f), (new PRelu().DerivativeA(2, 0.25f, 2), new PRelu().DerivativeB(2, 0.25f, 2)));
        // Pow: ∂/∂b = 0 where a ≤ 0 (ln a undefined), ∂/∂a = 0 for b = 0.
        Assert.Equal(0f, new Pow().DerivativeB(-2, 2, 4));
        Assert.Equal(0f, new Pow().DerivativeA(0, 0, 1));
    }

    [Fact]
    public void PowPartials_MatchCentralDifferencesOfTheDoubleReference()
    {
        var op = new Pow();
        for (double a = 0.2; a <= 3; a += 0.13)
        for (double b = -2; b <= 2; b += 0.17)
        {
            float fa = (float)a, fb = (float)b, y = op.Value(fa, fb);
            double h = 1e-6;
            double da = (Math.Pow(fa + h, fb) - Math.Pow(fa - h, fb)) / (2 * h), db = (Math.Pow(fa, fb + h) - Math.Pow(fa, fb - h)) / (2 * h);
            Assert.True(Math.Abs(op.DerivativeA(fa, fb, y) - da) <= 1e-5 * Math.Abs(da) + 1e-6, $"∂pow/∂a at ({fa}, {fb})");
            Assert.True(Math.Abs(op.DerivativeB(fa, fb, y) - db) <= 1e-5 * Math.Abs(db) + 1e-6, $"∂pow/∂b at ({fa}, {fb})");
        }
    }
}
