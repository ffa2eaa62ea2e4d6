using NanoCam.Autodiff;
using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;
using NanoCam.Ops;

namespace NanoCam.Cpu.Tests;

/// <summary>Max pooling without the argmax (no-grad passes) against the naive reference with it.</summary>
public class MaxPoolValuesTests
{
    private static readonly SimdKernels[] Simd = [new(threads: 1), new(threads: 2)];

    /// <summary>
    /// Random geometries (kernel, stride 1–3, dilation, asymmetric padding, ceil mode, vector tails and edge windows),
    /// with ties, NaNs and −∞ planted: the values equal the reference's exactly, and so do the naive kernel's own
    /// values-only results.
    /// </summary>
    [Fact]
    public void ValuesOnly_AnyGeometry_EqualsTheReferenceWithArgmax()
    {
        var rng = new Random(515);
        for (int trial = 0; trial < 120; trial++)
        {
            int kh = rng.Next(1, 5), kw = rng.Next(1, 5), sh = rng.Next(1, 4), sw = rng.Next(1, 4), dh = rng.Next(1, 3), dw = rng.Next(1, 3);
            int pt = rng.Next(0, kh), pl = rng.Next(0, kw), pb = rng.Next(0, kh), pr = rng.Next(0, kw);
            int h = rng.Next((kh - 1) * dh + 1, 30), w = rng.Next((kw - 1) * dw + 1, 90);
            var g = Pool2dGeometry.For(new Shape(rng.Next(1, 3), rng.Next(1, 4), h, w), (kh, kw), (sh, sw), (pt, pl, pb, pr), (dh, dw), rng.Next(2) == 1);
            AssertValuesMatch(g, rng, $"trial {trial} {g}");
        }
    }

    /// <summary>3×3 stride-2 windows (SqueezeNet's pools and the sizes around MaxPool3x3Stride2's limits), ceil mode.</summary>
    [Theory]
    [InlineData(64, 111, 111)] // SqueezeNet v1.1 pool1
    [InlineData(128, 55, 55)]  // pool3
    [InlineData(256, 27, 27)]  // pool5: 13 windows a row, one step of 16 spilling into the next output row
    [InlineData(5, 41, 41)]    // 20 windows a row: two overlapping steps
    [InlineData(3, 17, 17)]    // the smallest row MaxPool3x3Stride2 takes: 8 windows, every window touching the right edge
    [InlineData(2, 9, 16)]     // too narrow for it: the general sweep alone
    public void ValuesOnly_SqueezeNetPools_EqualTheReference(int channels, int h, int w) =>
        AssertValuesMatch(Pool2dGeometry.For(new Shape(1, channels, h, w), (3, 3), (2, 2), (0, 0, 0, 0), (1, 1), ceilMode: true), new Random(channels), $"{channels}×{h}×{w}");

    [Fact]
    public void MaxPool3x3Stride2_TakesTheCasesAbove_WithAvx512()
    {
        static Pool2dGeometry G(int h, int w) => Pool2dGeometry.For(new Shape(1, 1, h, w), (3, 3), (2, 2), (0, 0, 0, 0), (1, 1), ceilMode: true);
        bool avx512 = System.Runtime.Intrinsics.X86.Avx512F.IsSupported;
        foreach (var (h, w) in new[] { (111, 111), (55, 55), (27, 27), (41, 41), (17, 17) })
            Assert.Equal(avx512, NanoCam.Cpu.Simd.Pooling.MaxPool3x3Stride2.Applies(G(h, w)));
        Assert.False(NanoCam.Cpu.Simd.Pooling.MaxPool3x3Stride2.Applies(G(9, 16)));
        Assert.False(NanoCam.Cpu.Simd.Pooling.MaxPool3x3Stride2.Applies(Pool2dGeometry.For(new Shape(1, 1, 27, 27), 3, 2, padding: 1)));
    }

    [Fact]
    public void Tape_SkipsTheArgmaxOnlyWithoutGradients()
    {
        var x = SimdAgreementTests.Random(new Random(3), 1, 2, 9, 9);
        var noGrad = new Tape(Simd[0]) { GradEnabled = false };
        var y = noGrad.MaxPool2d(x, 3, 2);
        Assert.Null(((MaxPool2dNode)noGrad.Nodes[^1]).Argmax);
        noGrad.Reset();
        noGrad.MaxPool2d(x, Pool2dGeometry.For(x.Shape, 3, 2), keepIndices: true);
        Assert.NotNull(((MaxPool2dNode)noGrad.Nodes[^1]).Argmax);

        var withGrad = new Tape(Simd[0]);
        var yg = withGrad.MaxPool2d(x, 3, 2);
        Assert.NotNull(((MaxPool2dNode)withGrad.Nodes[^1]).Argmax);
        Assert.Equal(yg.ToArray(), y.ToArray());
    }

    private static void AssertValuesMatch(Pool2dGeometry g, Random rng, string tag)
    {
        var input = SimdAgreementTests.Random(rng, g.InputShape.ToArray());
        var x = input.Span;
        for (int i = 0; i + 1 < x.Length; i += 7) x[i] = x[i + 1];
        for (int i = 3; i < x.Length; i += 61) x[i] = float.NaN;
        for (int i = 11; i < x.Length; i += 43) x[i] = float.NegativeInfinity;
        var (expected, argmax) = (Tensor.Zeros(g.OutputShape), Tensor.Zeros(g.OutputShape));
        NaiveKernels.Instance.MaxPool2dForward(expected, argmax, input, g);
        var naiveValues = Tensor.Zeros(g.OutputShape);
        NaiveKernels.Instance.MaxPool2dForward(naiveValues, null, input, g);
        Assert.True(expected.ToArray().SequenceEqual(naiveValues.ToArray()), "naive values only " + tag);
        foreach (var simd in Simd)
        {
            var y = Tensor.Zeros(g.OutputShape);
            y.Span.Fill(12345f);
            simd.MaxPool2dForward(y, null, input, g);
            Assert.True(expected.ToArray().SequenceEqual(y.ToArray()), $"simd values only, threads={simd.Threads} {tag}");
        }
    }
}
