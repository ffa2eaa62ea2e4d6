using NanoCam.Autodiff;
using NanoCam.Ops;

namespace NanoCam.Core.Tests;

/// <summary>Transposed convolution against its scatter-add definition, and its gradients against finite differences.</summary>
public class ConvTranspose2dTests
{
    /// <summary>Stride (h, w), pads (top, left, bottom, right), dilation, groups, output padding (h, w).</summary>
    private static readonly (int Sh, int Sw, (int, int, int, int) Pads, int Dilation, int Groups, int Oph, int Opw)[] Geometries =
    [
        (1, 1, (0, 0, 0, 0), 1, 1, 0, 0),
        (2, 2, (1, 1, 1, 1), 1, 1, 1, 1),
        (2, 1, (0, 1, 1, 0), 2, 1, 1, 0),
        (3, 2, (1, 0, 1, 2), 1, 2, 2, 1),
        (1, 1, (1, 1, 1, 1), 2, 3, 0, 0),
    ];

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var backend in new[] { "naive", "simd" })
            for (int i = 0; i < Geometries.Length; i++) data.Add(backend, i);
        return data;
    }

    /// <summary>
    /// The geometry of the convolution whose input is the transposed convolution's output [N, Cout, H', W'] and whose
    /// weight is [Cin, Cout/groups, kh, kw], with H' = (H − 1)·s − padTop − padBottom + d·(kh − 1) + 1 + outputPadding.
    /// </summary>
    private static Conv2dGeometry Geometry(Shape x, Shape w, int sh, int sw, (int T, int L, int B, int R) pad, int dilation, int groups, int oph, int opw)
    {
        int outH = (x[2] - 1) * sh - pad.T - pad.B + dilation * (w[2] - 1) + 1 + oph;
        int outW = (x[3] - 1) * sw - pad.L - pad.R + dilation * (w[3] - 1) + 1 + opw;
        return new Conv2dGeometry(x[0], w[1] * groups, outH, outW, x[1], w[2], w[3], sh, sw, pad.T, pad.L, pad.B, pad.R, dilation, dilation, groups);
    }

    /// <summary>y[n, g·Co + co, h·s − pad + i·d, w·s − pad + j·d] += x[n, g·Ci + ci, h, w] · W[g·Ci + ci, co, i, j], plus bias.</summary>
    private static float[] ScatterAdd(Tensor x, Tensor weight, Tensor bias, Conv2dGeometry g)
    {
        int n = x.Shape[0], cin = x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        int coutPerGroup = weight.Shape[1], kh = weight.Shape[2], kw = weight.Shape[3], cinPerGroup = cin / g.Groups;
        int cout = coutPerGroup * g.Groups, outH = g.InputHeight, outW = g.InputWidth;
        var y = new double[n * cout * outH * outW];
        for (int b = 0; b < n; b++)
        for (int c = 0; c < cin; c++)
        for (int yy = 0; yy < h; yy++)
        for (int xx = 0; xx < w; xx++)
        for (int co = 0; co < coutPerGroup; co++)
        for (int i = 0; i < kh; i++)
        for (int j = 0; j < kw; j++)
        {
            int oy = yy * g.StrideHeight - g.PadTop + i * g.DilationHeight, ox = xx * g.StrideWidth - g.PadLeft + j * g.DilationWidth;
            if (oy < 0 || oy >= outH || ox < 0 || ox >= outW) continue;
            int channel = c / cinPerGroup * coutPerGroup + co;
            y[((b * cout + channel) * outH + oy) * outW + ox] += x[b, c, yy, xx] * weight[c, co, i, j];
        }
        for (int b = 0; b < n; b++)
        for (int c = 0; c < cout; c++)
        for (int p = 0; p < outH * outW; p++)
            y[(b * cout + c) * outH * outW + p] += bias.Span[c];
        return [.. y.Select(v => (float)v)];
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_MatchesTheScatterAddDefinition_AndGradientsMatchFiniteDifferences(string backend, int index)
    {
        var (sh, sw, pads, dilation, groups, oph, opw) = Geometries[index];
        var rng = new Random(index + 1);
        var x = TapeGradientCheck.Random(rng, 2, 2 * groups, 3, 4);
        var weight = TapeGradientCheck.Random(rng, 2 * groups, 2, 3, 2);
        var bias = TapeGradientCheck.Random(rng, 2 * groups);
        var g = Geometry(x.Shape, weight.Shape, sh, sw, pads, dilation, groups, oph, opw);
        var kernels = TestBackends.Get(backend);
        var y = new Tape(kernels).ConvTranspose2d(x, weight, bias, g);
        Assert.Equal([2, 2 * groups, g.InputHeight, g.InputWidth], y.Shape.ToArray());
        var expected = ScatterAdd(x, weight, bias, g);
        var actual = y.ToArray();
        for (int i = 0; i < expected.Length; i++)
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= 1e-5f, $"element {i}: {actual[i]} vs scatter-add {expected[i]}");
        TapeGradientCheck.Check(kernels, t => t.ConvTranspose2d(x, weight, bias, g), [x, weight, bias]);
        // x read by two nodes: the second input gradient is added to the first (the accumulating path).
        var other = TapeGradientCheck.Random(rng, weight.Shape.ToArray());
        TapeGradientCheck.Check(kernels, t => t.Add(t.ConvTranspose2d(x, weight, null, g), t.ConvTranspose2d(x, other, bias, g)), [x, other]);
    }

    [Fact]
    public void WrongShapes_AreArgumentExceptions()
    {
        var x = Tensor.Zeros(1, 2, 3, 3);
        var weight = Tensor.Zeros(2, 1, 3, 3);
        var g = Geometry(x.Shape, weight.Shape, 1, 1, (0, 0, 0, 0), 1, 1, 0, 0);
        var tape = new Tape(TestBackends.Get("naive"));
        Assert.Throws<ArgumentException>(() => tape.ConvTranspose2d(Tensor.Zeros(1, 3, 3, 3), weight, null, g));
        Assert.Throws<ArgumentException>(() => tape.ConvTranspose2d(x, Tensor.Zeros(2, 2, 3, 3), null, g));
        Assert.Throws<ArgumentException>(() => tape.ConvTranspose2d(x, weight, Tensor.Zeros(2), g));
        Assert.Equal([1, 1, 5, 5], tape.ConvTranspose2d(x, weight, Tensor.Zeros(1), g).Shape.ToArray());
    }
}
