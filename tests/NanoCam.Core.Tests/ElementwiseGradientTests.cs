using NanoCam.Autodiff;
using NanoCam.Elementwise;
using NanoCam.Ops;

namespace NanoCam.Core.Tests;

/// <summary>
/// tape.Unary and tape.Binary with every operator struct against central finite differences, on every CPU backend,
/// with inputs kept away from each function's kinks and discontinuities (the finite difference is meaningless there).
/// </summary>
public class ElementwiseGradientTests
{
    /// <summary>Uniform values in [low, high], each at least <paramref name="margin"/> from every kink.</summary>
    internal static Tensor Uniform(int seed, int[] dims, float low, float high, float[]? kinks = null, float margin = 0.05f)
    {
        var rng = new Random(seed);
        var t = Tensor.Zeros(dims);
        var s = t.Span;
        for (int i = 0; i < s.Length; i++)
        {
            float v;
            do v = (float)(low + (high - low) * rng.NextDouble());
            while (kinks is not null && kinks.Any(k => MathF.Abs(v - k) < margin));
            s[i] = v;
        }
        return t;
    }

    private static float[] Integers(int from, int to) => [.. Enumerable.Range(from, to - from + 1).Select(i => (float)i)];

    private sealed record UnaryCase(Func<Tape, Tensor, Tensor> Apply, float Low, float High, float[]? Kinks = null, float Margin = 0.05f);

    private static readonly Dictionary<string, UnaryCase> Unary = new()
    {
        ["Tanh"] = new((t, x) => t.Unary(x, new Tanh()), -2, 2),
        ["Exp"] = new((t, x) => t.Unary(x, new Exp()), -2, 2),
        ["Log"] = new((t, x) => t.Unary(x, new Log()), 0.5f, 3),
        ["Sqrt"] = new((t, x) => t.Unary(x, new Sqrt()), 0.5f, 3),
        ["Neg"] = new((t, x) => t.Unary(x, new Neg()), -2, 2),
        ["Abs"] = new((t, x) => t.Unary(x, new Abs()), -2, 2, [0]),
        ["Reciprocal"] = new((t, x) => t.Unary(x, new Reciprocal()), -2, 2, [0], Margin: 0.5f),
        ["Sign"] = new((t, x) => t.Unary(x, new Sign()), -2, 2, [0]),
        ["Floor"] = new((t, x) => t.Unary(x, new Floor()), -3, 3, Integers(-3, 3)),
        ["Ceil"] = new((t, x) => t.Unary(x, new Ceil()), -3, 3, Integers(-3, 3)),
        ["Round"] = new((t, x) => t.Unary(x, new Round()), -3, 3, [.. Integers(-3, 2).Select(k => k + 0.5f)]),
        ["Truncate"] = new((t, x) => t.Unary(x, new Truncate()), -3, 3, Integers(-3, 3)),
        ["Erf"] = new((t, x) => t.Unary(x, new Erf()), -2, 2),
        ["Gelu"] = new((t, x) => t.Unary(x, new Gelu()), -3, 3),
        ["GeluTanh"] = new((t, x) => t.Unary(x, new GeluTanh()), -3, 3),
        ["HardSigmoid"] = new((t, x) => t.Unary(x, new HardSigmoid(0.2f, 0.5f)), -4, 4, [-2.5f, 2.5f]),
        ["HardSwish"] = new((t, x) => t.Unary(x, new HardSwish()), -5, 5, [-3, 3]),
        ["Softplus"] = new((t, x) => t.Unary(x, new Softplus()), -3, 3),
        ["Softsign"] = new((t, x) => t.Unary(x, new Softsign()), -3, 3, [0]),
        ["Elu"] = new((t, x) => t.Unary(x, new Elu(1.3f)), -3, 2, [0]),
        ["Selu"] = new((t, x) => t.Unary(x, new Selu(1.6732632f, 1.050701f)), -3, 2, [0]),
        ["Celu"] = new((t, x) => t.Unary(x, new Celu(0.7f)), -3, 2, [0]),
        ["Mish"] = new((t, x) => t.Unary(x, new Mish()), -3, 3),
        ["Sigmoid"] = new((t, x) => t.Unary(x, new Sigmoid()), -3, 3),
        ["LeakyRelu"] = new((t, x) => t.Unary(x, new LeakyRelu(0.1f)), -2, 2, [0]),
        ["Relu"] = new((t, x) => t.Unary(x, new Relu()), -2, 2, [0]),
        ["Clip"] = new((t, x) => t.Unary(x, new Clip(-0.5f, 0.7f)), -2, 2, [-0.5f, 0.7f]),
        ["PowScalar"] = new((t, x) => t.Unary(x, new PowScalar(2.5f)), 0.5f, 2),
        ["PowScalarOdd"] = new((t, x) => t.Unary(x, new PowScalar(3f)), -2, 2),
        ["Scale"] = new((t, x) => t.Unary(x, new Scale(-1.5f)), -2, 2),
        ["Shift"] = new((t, x) => t.Unary(x, new Shift(0.25f)), -2, 2),
        ["Square"] = new((t, x) => t.Unary(x, new Square()), -2, 2),
        ["Silu"] = new((t, x) => t.Unary(x, new Silu()), -4, 4),
        ["HardSigmoidGate"] = new((t, x) => t.Unary(x, new HardSigmoidGate(1f / 6, 0.5f)), -5, 5, [-3, 3]),
    };

    public static TheoryData<string, string> UnaryCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var backend in new[] { "naive", "simd" })
        foreach (var name in Unary.Keys) data.Add(backend, name);
        return data;
    }

    [Theory]
    [MemberData(nameof(UnaryCases))]
    public void Unary_MatchesFiniteDifferences(string backend, string name)
    {
        var c = Unary[name];
        var x = Uniform(name.Length * 31 + 7, [3, 7], c.Low, c.High, c.Kinks, c.Margin);
        TapeGradientCheck.Check(TestBackends.Get(backend), t => c.Apply(t, x), [x]);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void PrecisionCasts_PassTheGradientStraightThrough(string backend)
    {
        // RoundToHalf and RoundToBFloat16 are steps at the scale of their precision, so a finite difference sees the
        // staircase; their backward is the identity by definition (a straight-through estimator).
        var casts = new (Func<Tape, Tensor, Tensor> Apply, Func<float, float> Forward)[]
        {
            ((t, x) => t.Unary(x, new RoundToHalf()), v => (float)(Half)v),
            ((t, x) => t.Unary(x, new RoundToBFloat16()), v => BitConverter.Int32BitsToSingle((BitConverter.SingleToInt32Bits(v) + 0x7FFF + ((BitConverter.SingleToInt32Bits(v) >> 16) & 1)) & ~0xFFFF)),
        };
        foreach (var (apply, forward) in casts)
        {
            var x = Uniform(3, [4, 5], -3, 3);
            x.RequiresGrad = true;
            var tape = new Tape(TestBackends.Get(backend));
            var y = apply(tape, x);
            Assert.Equal(x.ToArray().Select(forward), y.ToArray());
            var seed = Uniform(4, [4, 5], -1, 1);
            tape.Backward(y, seed);
            Assert.Equal(seed.ToArray(), x.Grad!.ToArray());
        }
    }

    public static TheoryData<string> Backends => TestBackends.Names;

    /// <summary>Values on a grid of spacing 0.1 (a) and the same grid shifted by 0.05 (b): every a–b pair differs by ≥ 0.05.</summary>
    private static (Tensor A, Tensor B) Staggered(int seed, int[] aDims, int[] bDims)
    {
        var rng = new Random(seed);
        var a = Tensor.Zeros(aDims);
        var b = Tensor.Zeros(bDims);
        for (int i = 0; i < a.Size; i++) a.Span[i] = rng.Next(-20, 21) * 0.1f;
        for (int i = 0; i < b.Size; i++) b.Span[i] = rng.Next(-20, 20) * 0.1f + 0.05f;
        return (a, b);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Binary_EveryFunction_MatchesFiniteDifferences_WithBroadcastingOnBothSides(string backend)
    {
        var k = TestBackends.Get(backend);
        int[] aDims = [2, 3, 1, 4], bDims = [3, 5, 1];   // broadcast to [2, 3, 5, 4]: a along axis 2, b along axes 0 and 3
        var pa = Uniform(1, aDims, 0.5f, 2f);
        var pb = Uniform(2, bDims, -1.5f, 1.5f);
        TapeGradientCheck.Check(k, t => t.Binary(pa, pb, new Pow()), [pa, pb]);
        TapeGradientCheck.Check(k, t => t.Binary(pb, pa, new Multiply()), [pa, pb]);
        TapeGradientCheck.Check(k, t => t.Binary(pb, pa, new Divide()), [pa, pb]);

        var (ma, mb) = Staggered(3, aDims, bDims);
        TapeGradientCheck.Check(k, t => t.Binary(ma, mb, new Maximum()), [ma, mb]);
        TapeGradientCheck.Check(k, t => t.Binary(ma, mb, new Minimum()), [ma, mb]);
        foreach (var zeroGradient in new Func<Tape, Tensor>[]
                 {
                     t => t.Binary(ma, mb, new Equal()), t => t.Binary(ma, mb, new Less()), t => t.Binary(ma, mb, new Greater()),
                     t => t.Binary(ma, mb, new LessOrEqual()), t => t.Binary(ma, mb, new GreaterOrEqual()),
                     t => t.Binary(ma, mb, new And()), t => t.Binary(ma, mb, new Or()), t => t.Binary(ma, mb, new Xor()),
                 })
            TapeGradientCheck.Check(k, zeroGradient, [ma, mb]);

        // PRelu: x [N, C, W] away from 0, one slope per channel [C, 1].
        var x = Uniform(5, [2, 3, 5], -2, 2, [0]);
        var slope = Uniform(6, [3, 1], 0.05f, 0.5f);
        TapeGradientCheck.Check(k, t => t.Binary(x, slope, new PRelu()), [x, slope]);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Mod_MatchesFiniteDifferences_AwayFromItsJumps(string backend)
    {
        // fmod(a, b) jumps where a/b crosses an integer: keep a/b's fractional part in [0.15, 0.85].
        var a = Uniform(7, [4, 6], -3, 3);
        var b = Uniform(8, [4, 6], 0.7f, 1.3f);
        var rng = new Random(9);
        for (int i = 0; i < a.Size; i++)
        {
            float q = a.Span[i] / b.Span[i], f = q - MathF.Floor(q);
            while (f < 0.15f || f > 0.85f)
            {
                a.Span[i] = (float)(rng.NextDouble() * 6 - 3);
                q = a.Span[i] / b.Span[i];
                f = q - MathF.Floor(q);
            }
        }
        TapeGradientCheck.Check(TestBackends.Get(backend), t => t.Binary(a, b, new Mod()), [a, b]);
    }

    [Fact]
    public void UnaryAndBinaryNodes_AreNamedByTheirFunction_AndGuidedBackpropReachesTheGenericRelu()
    {
        var x = Uniform(10, [2, 5], -1, 1, [0]);
        x.RequiresGrad = true;
        var tape = new Tape(TestBackends.Get("naive"));
        var y = tape.Unary(x, new Relu());
        var z = tape.Binary(y, x, new Maximum());
        Assert.Equal(["Relu", "Maximum"], tape.Nodes.Select(n => n.Kind));
        // Guided Backprop overrides every "Relu": the generic one passes only positive gradients where x > 0.
        tape.OverrideBackward("Relu", ActivationNode.ReluRule(ReluBackwardRule.Guided));
        tape.Reset();
        y = tape.Unary(x, new Relu());
        var seed = Uniform(11, [2, 5], -1, 1);
        tape.Backward(y, seed);
        var expected = x.ToArray().Zip(seed.ToArray(), (xi, g) => xi > 0 && g > 0 ? g : 0f);
        Assert.Equal(expected, x.Grad!.ToArray());
        _ = z;
    }
}
