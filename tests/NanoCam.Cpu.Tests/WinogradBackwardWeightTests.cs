using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;
using NanoCam.Cpu.Simd.Conv;
using NanoCam.Cpu.Simd.Gemm;

namespace NanoCam.Cpu.Tests;

/// <summary>
/// The weight gradient of 3×3 stride-1 convolutions through Winograd F(3×3, 2×2) (WinogradConv.BackwardWeight)
/// against the naive kernel: odd map sizes, paddings 0 to 2 (uneven too), groups, batches split across threads, both
/// micro-kernels; dW starts non-zero, so the kernel must add to it. Integer data first: there every sum is exact.
/// </summary>
public class WinogradBackwardWeightTests
{
    private static readonly SimdKernels[] EveryGemmPath =
    [
        new(threads: 1, MicroKernelChoice.Avx2), new(threads: 2, MicroKernelChoice.Avx2),
        new(threads: 1, MicroKernelChoice.Avx512), new(threads: 2, MicroKernelChoice.Avx512),
    ];

    private static Tensor Random(Random rng, params int[] dims) => SimdAgreementTests.Random(rng, dims);

    /// <summary>Small integers (−2 … 2): products and sums stay exact in float, and so do the transforms' halves.</summary>
    private static Tensor Integers(Random rng, params int[] dims)
    {
        var t = Tensor.Zeros(new Shape(dims));
        var span = t.Span;
        for (int i = 0; i < span.Length; i++) span[i] = rng.Next(-2, 3);
        return t;
    }

    [Fact]
    public void BackwardWeight_IntegerData_IsExact()
    {
        // 3 images, 16 → 16 channels, 15×13 (odd: half-used last tiles), pad 1: every partial sum is a small integer
        // (at most 3·15·13·4 in size), so Winograd and the direct sum must agree to the bit.
        var rng = new Random(17);
        var g = Conv2dGeometry.For(new Shape(3, 16, 15, 13), new Shape(16, 16, 3, 3), stride: 1, padding: 1);
        Assert.Equal(WinogradTransforms.IsSupported, WinogradConv.AppliesBackwardWeight(g));
        var input = Integers(rng, 3, 16, 15, 13);
        var dOutput = Integers(rng, g.OutputShape.Dims.ToArray());
        var initial = Integers(rng, 16, 16, 3, 3);
        var expected = Tensor.FromArray(initial.ToArray(), 16, 16, 3, 3);
        NaiveKernels.Instance.Conv2dBackwardWeight(expected, dOutput, input, g);
        foreach (var simd in EveryGemmPath)
        {
            var actual = Tensor.FromArray(initial.ToArray(), 16, 16, 3, 3);
            simd.Conv2dBackwardWeight(actual, dOutput, input, g);
            Assert.Equal(expected.ToArray(), actual.ToArray());
        }
    }

    public static TheoryData<int, int, int, int, int, int, int, int, int, int> Cases => WinogradNarrowCases.AddTo(new()
    {
        // batch, C, H, W, K, padTop, padLeft, padBottom, padRight, groups
        { 1, 16, 23, 25, 16, 1, 1, 1, 1, 1 },    // odd maps: the last tile row and column half used
        { 1, 24, 20, 37, 40, 0, 0, 0, 0, 1 },    // no padding
        { 2, 32, 17, 22, 17, 1, 2, 0, 1, 1 },    // uneven padding, K not a multiple of any tile
        { 4, 32, 13, 11, 32, 2, 2, 2, 2, 2 },    // wide padding, two groups of 16
        { 5, 16, 30, 31, 20, 1, 1, 1, 1, 1 },    // blocks of tile rows that start and end inside images
        { 3, 16, 40, 40, 16, 1, 1, 1, 1, 1 },    // 20 tile columns: the 16-lane groups with a short last one
        { 64, 32, 14, 14, 64, 1, 1, 1, 1, 1 },   // the GAP-CNN's second convolution
        { 16, 32, 7, 7, 128, 1, 1, 1, 1, 1 },    // a 7×7 map (4 tile columns), as in its third
    });

    [Theory]
    [MemberData(nameof(Cases))]
    public void BackwardWeight_AgreesWithNaive(int n, int c, int h, int w, int k, int pt, int pl, int pb, int pr, int groups)
    {
        var rng = new Random(n + c * 7 + h * 31 + k * 101);
        var g = Conv2dGeometry.For(new Shape(n, c, h, w), new Shape(k, c / groups, 3, 3), (1, 1), (pt, pl, pb, pr), (1, 1), groups);
        Assert.Equal(WinogradTransforms.IsSupported, WinogradConv.AppliesBackwardWeight(g));
        var input = Random(rng, n, c, h, w);
        var dOutput = Random(rng, g.OutputShape.Dims.ToArray());
        var initial = Random(rng, k, c / groups, 3, 3);
        var expected = Tensor.FromArray(initial.ToArray(), k, c / groups, 3, 3);
        NaiveKernels.Instance.Conv2dBackwardWeight(expected, dOutput, input, g);
        var e = expected.ToArray();
        // Each entry sums N·OH·OW products: the tolerance grows with the square root of that length.
        float scale = (1 + e.Max(MathF.Abs)) * MathF.Sqrt(n * g.OutputHeight * g.OutputWidth);
        foreach (var simd in EveryGemmPath)
        {
            var actual = Tensor.FromArray(initial.ToArray(), k, c / groups, 3, 3);
            simd.Conv2dBackwardWeight(actual, dOutput, input, g);
            var a = actual.ToArray();
            for (int i = 0; i < e.Length; i++)
                Assert.True(MathF.Abs(e[i] - a[i]) <= 1e-5f * scale, $"{g} threads={simd.Threads} {simd.MicroKernel}: element {i}: naive {e[i]:G7}, winograd {a[i]:G7}");
        }
    }

    [Fact]
    public void BackwardWeight_ManyInputChannels_StaysOnTheGemm()
    {
        // The GAP-CNN's third convolution (64 → 128, 7×7) ran slower by Winograd: the dispatch keeps it off.
        var g = Conv2dGeometry.For(new Shape(64, 64, 7, 7), new Shape(128, 64, 3, 3), stride: 1, padding: 1);
        Assert.False(WinogradConv.AppliesBackwardWeight(g));
    }

    [Fact]
    public void BackwardWeight_SameThreads_IsBitIdentical()
    {
        var g = Conv2dGeometry.For(new Shape(64, 32, 14, 14), new Shape(64, 32, 3, 3), stride: 1, padding: 1);
        var rng = new Random(3);
        var (dOutput, input) = (Random(rng, 64, 64, 14, 14), Random(rng, 64, 32, 14, 14));
        foreach (var simd in EveryGemmPath)
        {
            var first = Tensor.Zeros(new Shape(64, 32, 3, 3));
            var second = Tensor.Zeros(new Shape(64, 32, 3, 3));
            simd.Conv2dBackwardWeight(first, dOutput, input, g);
            simd.Conv2dBackwardWeight(second, dOutput, input, g);
            Assert.Equal(first.ToArray(), second.ToArray());
        }
    }

    [Fact]
    public void BackwardWeight_AfterWarmUp_AllocatesNothing()
    {
        var g = Conv2dGeometry.For(new Shape(64, 32, 14, 14), new Shape(64, 32, 3, 3), stride: 1, padding: 1);
        var rng = new Random(9);
        var (dOutput, input) = (Random(rng, 64, 64, 14, 14), Random(rng, 64, 32, 14, 14));
        var dWeight = Tensor.Zeros(new Shape(64, 32, 3, 3));
        foreach (var simd in EveryGemmPath)
        {
            simd.Conv2dBackwardWeight(dWeight, dOutput, input, g);
            long fewest = long.MaxValue;
            for (int call = 0; call < 3; call++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                simd.Conv2dBackwardWeight(dWeight, dOutput, input, g);
                fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
            }
            Assert.Equal(0, fewest);
        }
    }
}
