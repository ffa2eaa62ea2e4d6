using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;
using NanoCam.Cpu.Simd.Gemm;

namespace NanoCam.Cpu.Tests;

/// <summary>The SIMD backend against the naive reference, kernel by kernel, on random and odd sizes (tails, edge tiles).</summary>
public class SimdAgreementTests
{
    private static readonly NaiveKernels Naive = NaiveKernels.Instance;
    private static readonly SimdKernels Simd1 = new(threads: 1);
    private static readonly SimdKernels Simd2 = new(threads: 2);
    private static readonly SimdKernels Simd3 = new(threads: 3);

    /// <summary>Both micro-kernels (AVX2 forced, AVX-512 forced: each runs everywhere, fast or not) at 1 and 2 threads.</summary>
    private static readonly SimdKernels[] EveryGemmPath =
    [
        new(threads: 1, MicroKernelChoice.Avx2), new(threads: 2, MicroKernelChoice.Avx2),
        new(threads: 1, MicroKernelChoice.Avx512), new(threads: 2, MicroKernelChoice.Avx512),
    ];

    internal static Tensor Random(Random rng, params int[] dims)
    {
        var t = Tensor.Zeros(dims);
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = (float)(rng.NextDouble() * 2 - 1);
        return t;
    }

    internal static Tensor Clone(Tensor t) => Tensor.FromArray(t.ToArray(), t.Shape.ToArray());

    /// <summary>|a − b| ≤ tol·(1 + max|b|) elementwise: the reference sums in a different order.</summary>
    internal static void AssertClose(Tensor expected, Tensor actual, float tolerance, string what)
    {
        var e = expected.ToArray();
        var a = actual.ToArray();
        float scale = 1 + e.Select(MathF.Abs).DefaultIfEmpty(0).Max();
        for (int i = 0; i < e.Length; i++)
            Assert.True(MathF.Abs(e[i] - a[i]) <= tolerance * scale, $"{what}: element {i}: naive {e[i]:G7}, simd {a[i]:G7}");
    }

    public static TheoryData<int, int, int, bool, bool> GemmCases => new()
    {
        { 1, 1, 1, false, false }, { 7, 13, 5, false, false }, { 6, 16, 256, false, false }, { 37, 45, 300, true, false },
        { 100, 17, 513, false, true }, { 61, 129, 77, true, true }, { 200, 300, 64, false, false }, { 3, 1000, 9, false, false },
        { 8, 48, 256, false, false }, { 25, 65, 257, true, false }, { 97, 611, 300, false, false }, { 13, 33, 7, false, true },
        { 64, 3136 / 8, 576, false, false }, { 301, 99, 600, true, false }, { 300, 130, 70, false, true },
    };

    [Theory]
    [MemberData(nameof(GemmCases))]
    public void Gemm_AgreesWithNaive_ForOddSizesAndTransposes(int m, int n, int k, bool ta, bool tb)
    {
        var rng = new Random(m * 1000 + n + k);
        var a = ta ? Random(rng, k, m) : Random(rng, m, k);
        var b = tb ? Random(rng, n, k) : Random(rng, k, n);
        var c0 = Random(rng, m, n);
        foreach (var (alpha, beta) in new[] { (1f, 0f), (0.5f, 1f), (-2f, 0.25f) })
        foreach (var simd in EveryGemmPath)
        {
            var s = new GemmShape(m, n, k, ta, tb, alpha, beta);
            var expected = Clone(c0);
            var actual = Clone(c0);
            Naive.Gemm(expected, a, b, s);
            simd.Gemm(actual, a, b, s);
            AssertClose(expected, actual, 1e-5f * MathF.Sqrt(k), $"gemm {m}×{n}×{k} tA={ta} tB={tb} α={alpha} β={beta} threads={simd.Threads} {simd.MicroKernel}");
        }
    }

    [Fact]
    public void Gemm_BatchedWithBroadcastOperand_AgreesWithNaive()
    {
        var rng = new Random(3);
        var a = Random(rng, 3, 5, 7);
        var b = Random(rng, 7, 4);
        var s = new GemmShape(5, 4, 7, Batch: 3, BatchStrideA: 35, BatchStrideB: 0, BatchStrideC: 20);
        var expected = Tensor.Zeros(3, 5, 4);
        var actual = Tensor.Zeros(3, 5, 4);
        Naive.Gemm(expected, a, b, s);
        Simd2.Gemm(actual, a, b, s);
        AssertClose(expected, actual, 1e-5f, "batched gemm");
    }

    public static TheoryData<int, int, int, int, int, int, int, int, int, int> ConvCases => new()
    {
        // batch, C, H, W, K, R, stride, pad, dilation, groups
        { 1, 3, 9, 7, 5, 3, 1, 1, 1, 1 },
        { 3, 4, 11, 10, 6, 3, 2, 1, 1, 2 },
        { 2, 6, 8, 9, 6, 3, 1, 2, 2, 6 },
        { 5, 8, 7, 7, 16, 1, 1, 0, 1, 1 },
        { 2, 5, 13, 6, 7, 5, 3, 2, 1, 1 },
        { 4, 3, 6, 6, 9, 1, 2, 0, 1, 1 },
        { 1, 16, 12, 12, 32, 3, 1, 1, 1, 1 },
        { 1, 20, 15, 17, 25, 3, 1, 1, 1, 1 },
        { 1, 9, 40, 37, 14, 3, 2, 1, 1, 1 },
        { 2, 7, 19, 23, 13, 5, 1, 2, 2, 1 },
        { 45, 6, 7, 7, 10, 3, 1, 1, 1, 2 },  // blocks of 20 images (1024 columns ÷ 49), the last one short; weight gradient: 9 blocks of 5
        { 7, 6, 7, 7, 10, 3, 1, 1, 1, 1 },   // weight gradient in blocks of 5 images (256 columns ÷ 49) and a short one of 2
        { 6, 9, 14, 14, 11, 3, 1, 1, 1, 1 }, // a block of 5 images (1024 ÷ 196), then one image alone
        { 3, 1, 28, 28, 10, 3, 1, 1, 1, 1 }, // a first layer: weight gradient as row dots, one image per block (4 + 4 + 2 rows)
    };

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void Conv2d_ForwardAndBothBackwards_AgreeWithNaive(int n, int c, int h, int w, int k, int r, int stride, int pad, int dilation, int groups)
    {
        var rng = new Random(n + c * 7 + h * 31 + k * 101);
        var input = Random(rng, n, c, h, w);
        var weight = Random(rng, k, c / groups, r, r + (r > 1 ? -1 : 0));
        var bias = Random(rng, k);
        var g = Conv2dGeometry.For(input.Shape, weight.Shape, (stride, stride), (pad, pad, pad, pad + 1 > 2 ? pad : pad + 1), (dilation, dilation), groups);
        var dOutput = Random(rng, g.OutputShape.ToArray());
        foreach (var simd in EveryGemmPath)
        {
            string tag = $"conv {g} threads={simd.Threads} {simd.MicroKernel}";
            var yn = Tensor.Zeros(g.OutputShape); var ys = Tensor.Zeros(g.OutputShape);
            Naive.Conv2dForward(yn, input, weight, bias, g);
            simd.Conv2dForward(ys, input, weight, bias, g);
            AssertClose(yn, ys, 1e-5f, "forward " + tag);

            // Backward kernels accumulate: start from the same non-zero gradient.
            var dxn = Random(new Random(1), input.Shape.ToArray()); var dxs = Clone(dxn);
            Naive.Conv2dBackwardInput(dxn, dOutput, weight, g);
            simd.Conv2dBackwardInput(dxs, dOutput, weight, g);
            AssertClose(dxn, dxs, 1e-5f, "backward input " + tag);

            var dwn = Random(new Random(2), weight.Shape.ToArray()); var dws = Clone(dwn);
            Naive.Conv2dBackwardWeight(dwn, dOutput, input, g);
            simd.Conv2dBackwardWeight(dws, dOutput, input, g);
            AssertClose(dwn, dws, 1e-5f, "backward weight " + tag);

            var dbn = Random(new Random(3), k); var dbs = Clone(dbn);
            Naive.Conv2dBackwardBias(dbn, dOutput);
            simd.Conv2dBackwardBias(dbs, dOutput);
            AssertClose(dbn, dbs, 1e-5f, "backward bias " + tag);
        }
    }

    public static TheoryData<int, int, int, int, int, int, int, bool> PoolCases => new()
    {
        // batch, C, H, W, kernel, stride, pad, ceil mode
        { 2, 3, 28, 28, 2, 2, 0, false },   // the training-step case: one vector step and a 6-window tail step
        { 3, 5, 15, 37, 2, 2, 0, false },   // 18 windows per row: two vector steps and a scalar tail; odd last row unused
        { 2, 3, 9, 40, 2, 2, 0, true },     // ceil mode: a last row of half windows
        { 2, 4, 11, 13, 3, 2, 1, true },    // padded, overlapping windows: the general rule
        { 1, 2, 7, 5, 2, 1, 0, false },     // stride 1
        { 2, 3, 14, 14, 2, 2, 0, false },   // 7 windows per row: the tail step alone (the training step's second pool)
        { 1, 2, 6, 6, 2, 2, 0, false },     // 3 windows: the tail step's masked loads end exactly at the end of the tensor
        { 2, 2, 4, 30, 2, 2, 0, false },    // 15 windows: one vector step and a 7-window tail step
        { 3, 4, 15, 14, 2, 2, 0, false },   // odd height: the spare row lets even the last row pair read past its end
        { 2, 3, 26, 26, 2, 2, 0, false },   // 13 windows: a 5-window tail whose whole-vector store spills into the next row
        { 3, 5, 6, 6, 2, 2, 0, false },     // 3 windows: the first row's 8-wide store spans the next two rows, the others may not
        { 5, 3, 2, 14, 2, 2, 0, false },    // one output row: only exact loads and stores, every plane's edge next to another's
        { 4, 3, 3, 3, 2, 2, 0, false },     // one window a plane
        { 2, 3, 14, 15, 2, 2, 0, false },   // 7 windows and a spare column
        { 2, 2, 6, 40, 2, 2, 0, false },    // 20 windows: five whole backward steps
        { 2, 2, 7, 27, 2, 2, 0, false },    // 13 windows: three backward steps and one window alone; spare row and column
    };

    [Theory]
    [MemberData(nameof(PoolCases))]
    public void MaxPoolAndGlobalAvgPool_AgreeWithNaive_ExactlyIncludingArgmaxAndNaN(int n, int c, int h, int w, int kernel, int stride, int pad, bool ceil)
    {
        var rng = new Random(n * 31 + h * 7 + w);
        var input = Random(rng, n, c, h, w);
        var x = input.Span;
        // Ties (first maximum wins) and NaNs (NaN wins, the first NaN stays).
        for (int i = 0; i < x.Length; i += 11) x[i] = x[i + 1 < x.Length ? i + 1 : i];
        for (int i = 5; i < x.Length; i += 97) x[i] = float.NaN;
        var g = Pool2dGeometry.For(input.Shape, kernel, stride, pad, ceil);
        var dOutput = Random(rng, g.OutputShape.ToArray());
        foreach (var simd in new[] { Simd1, Simd2, Simd3 })
        {
            string tag = $"pool {g} threads={simd.Threads}";
            var (yn, an) = (Tensor.Zeros(g.OutputShape), Tensor.Zeros(g.OutputShape));
            var (ys, @as) = (Tensor.Zeros(g.OutputShape), Tensor.Zeros(g.OutputShape));
            ys.Span.Fill(-12345f);   // every output and index must be written
            @as.Span.Fill(-12345f);
            Naive.MaxPool2dForward(yn, an, input, g);
            simd.MaxPool2dForward(ys, @as, input, g);
            Assert.Equal(an.ToArray(), @as.ToArray());
            Assert.Equal(yn.ToArray(), ys.ToArray());

            var dxn = Random(new Random(7), input.Shape.ToArray()); var dxs = Clone(dxn);
            Naive.MaxPool2dBackward(dxn, dOutput, an, g);
            simd.MaxPool2dBackward(dxs, dOutput, @as, g);
            AssertClose(dxn, dxs, 0, "max backward " + tag);

            var clean = Random(rng, n, c, h, w);
            var (gn, gs) = (Tensor.Zeros(n, c, 1, 1), Tensor.Zeros(n, c, 1, 1));
            Naive.GlobalAvgPoolForward(gn, clean);
            simd.GlobalAvgPoolForward(gs, clean);
            AssertClose(gn, gs, 1e-6f, "global average pool " + tag);
            var dgn = Random(new Random(8), clean.Shape.ToArray()); var dgs = Clone(dgn);
            Naive.GlobalAvgPoolBackward(dgn, gn);
            simd.GlobalAvgPoolBackward(dgs, gn);
            AssertClose(dgn, dgs, 0, "global average pool backward " + tag);
        }
    }

    /// <summary>
    /// Random geometries (kernel, stride, dilation, asymmetric padding, ceil mode, widths that leave vector tails and
    /// edge windows): max pooling must match the reference exactly, values and argmax, with ties, NaNs and −∞ planted;
    /// average pooling's forward exactly (same summation order and divisor), its backward to rounding.
    /// </summary>
    [Fact]
    public void MaxAndAvgPool_AnyGeometry_AgreeWithNaive()
    {
        var rng = new Random(2026);
        for (int trial = 0; trial < 80; trial++)
        {
            int kh = rng.Next(1, 5), kw = rng.Next(1, 5), sh = rng.Next(1, 4), sw = rng.Next(1, 4), dh = rng.Next(1, 3), dw = rng.Next(1, 3);
            int pt = rng.Next(0, kh), pl = rng.Next(0, kw), pb = rng.Next(0, kh), pr = rng.Next(0, kw);
            int h = rng.Next((kh - 1) * dh + 1, 30), w = rng.Next((kw - 1) * dw + 1, 70);
            bool ceil = rng.Next(2) == 1;
            // ONNX requires padding smaller than the (dilated) window; the reference handles a window with no tap too.
            var g = Pool2dGeometry.For(new Shape(rng.Next(1, 3), rng.Next(1, 4), h, w), (kh, kw), (sh, sw), (pt, pl, pb, pr), (dh, dw), ceil);
            var input = Random(rng, g.InputShape.ToArray());
            var x = input.Span;
            for (int i = 0; i + 1 < x.Length; i += 7) x[i] = x[i + 1];
            for (int i = 3; i < x.Length; i += 61) x[i] = float.NaN;
            for (int i = 11; i < x.Length; i += 43) x[i] = float.NegativeInfinity;
            var dOutput = Random(rng, g.OutputShape.ToArray());
            foreach (var simd in new[] { Simd1, Simd2, Simd3 })
            {
                string tag = $"trial {trial} {g} threads={simd.Threads}";
                var (yn, an, ys, @as) = (Tensor.Zeros(g.OutputShape), Tensor.Zeros(g.OutputShape), Tensor.Zeros(g.OutputShape), Tensor.Zeros(g.OutputShape));
                Naive.MaxPool2dForward(yn, an, input, g);
                simd.MaxPool2dForward(ys, @as, input, g);
                Assert.True(an.ToArray().SequenceEqual(@as.ToArray()), "max argmax " + tag);
                Assert.True(yn.ToArray().SequenceEqual(ys.ToArray()), "max values " + tag);
                var dxn = Random(new Random(trial), input.Shape.ToArray()); var dxs = Clone(dxn);
                Naive.MaxPool2dBackward(dxn, dOutput, an, g);
                simd.MaxPool2dBackward(dxs, dOutput, @as, g);
                AssertClose(dxn, dxs, 0, "max backward " + tag);

                var clean = Random(new Random(trial + 1), g.InputShape.ToArray());
                foreach (bool countIncludePad in new[] { false, true })
                {
                    var (mn, ms) = (Tensor.Zeros(g.OutputShape), Tensor.Zeros(g.OutputShape));
                    Naive.AvgPool2dForward(mn, clean, g, countIncludePad);
                    simd.AvgPool2dForward(ms, clean, g, countIncludePad);
                    Assert.True(mn.ToArray().SequenceEqual(ms.ToArray()), $"avg forward countIncludePad={countIncludePad} " + tag);
                    var dan = Random(new Random(trial + 2), input.Shape.ToArray()); var das = Clone(dan);
                    Naive.AvgPool2dBackward(dan, dOutput, g, countIncludePad);
                    simd.AvgPool2dBackward(das, dOutput, g, countIncludePad);
                    AssertClose(dan, das, 1e-6f, $"avg backward countIncludePad={countIncludePad} " + tag);
                }
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Concat_AgreesWithNaive_ForwardAndBackward(int axis)
    {
        var rng = new Random(axis);
        var a = Random(rng, 2, 3, 5, 7);
        var dims = a.Shape.ToArray();
        dims[axis] = 4;
        var b = Random(rng, dims);
        var outDims = a.Shape.ToArray();
        outDims[axis] += 4;
        var (yn, ys) = (Tensor.Zeros(outDims), Tensor.Zeros(outDims));
        foreach (var (k, y) in new (IKernels, Tensor)[] { (Naive, yn), (Simd1, ys) })
        {
            k.ConcatForward(y, a, axis, 0);
            k.ConcatForward(y, b, axis, a.Shape[axis]);
        }
        Assert.Equal(yn.ToArray(), ys.ToArray());
        var dy = Random(rng, outDims);
        var dbn = Random(new Random(5), dims); var dbs = Clone(dbn);
        Naive.ConcatBackward(dbn, dy, axis, a.Shape[axis]);
        Simd1.ConcatBackward(dbs, dy, axis, a.Shape[axis]);
        Assert.Equal(dbn.ToArray(), dbs.ToArray());
        Assert.Throws<ArgumentException>(() => Simd1.ConcatForward(ys, b, axis, a.Shape[axis] + 1));
    }

    [Fact]
    public void MicroKernelChoice_AutoPicksAvx512ExactlyWhenVector512RunsInHardware()
    {
        var expected = System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? MicroKernelChoice.Avx512 : MicroKernelChoice.Avx2;
        Assert.Equal(expected, Simd1.MicroKernel);
        Assert.Equal(MicroKernelChoice.Avx2, EveryGemmPath[0].MicroKernel);
        Assert.Equal("6x16", PackedGemm.Create(MicroKernelChoice.Avx2).Tile);
        Assert.Equal("8x48", PackedGemm.Create(MicroKernelChoice.Avx512).Tile);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(1003)]
    public void ElementwiseAndOptimizer_AgreeWithNaive_IncludingTails(int size)
    {
        var rng = new Random(size);
        var x = Random(rng, size);
        var dy = Random(rng, size);
        foreach (var kind in Enum.GetValues<Activation>())
        {
            var p = new ActivationParams(Alpha: 0.1f, Low: -0.3f, High: 0.6f);
            var yn = Tensor.Zeros(size); var ys = Tensor.Zeros(size);
            Naive.ActivationForward(kind, yn, x, p);
            Simd2.ActivationForward(kind, ys, x, p);
            AssertClose(yn, ys, 1e-6f, $"{kind} forward");
            var dn = Random(new Random(4), size); var ds = Clone(dn);
            Naive.ActivationBackward(kind, dn, dy, x, yn, p);
            Simd2.ActivationBackward(kind, ds, dy, x, ys, p);
            AssertClose(dn, ds, 1e-6f, $"{kind} backward");
        }
        foreach (var rule in Enum.GetValues<ReluBackwardRule>())
        {
            var dn = Random(new Random(5), size); var ds = Clone(dn);
            Naive.ReluBackward(rule, dn, dy, x);
            Simd2.ReluBackward(rule, ds, dy, x);
            AssertClose(dn, ds, 0, $"relu backward {rule}");
        }
        var (wn, vn) = (Clone(x), Random(new Random(6), size));
        var (ws, vs) = (Clone(x), Clone(vn));
        Naive.SgdStep(wn, dy, vn, 0.1f, 0.9f, 1e-4f);
        Simd2.SgdStep(ws, dy, vs, 0.1f, 0.9f, 1e-4f);
        AssertClose(wn, ws, 1e-6f, "sgd parameter");
        AssertClose(vn, vs, 1e-6f, "sgd velocity");
    }
}
