using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;
using NanoCam.Cpu.Simd.Conv;
using NanoCam.Cpu.Simd.Gemm;

namespace NanoCam.Cpu.Tests;

/// <summary>
/// The Winograd F(2×2, 3×3) forward convolution against the naive direct sum: odd and even map sizes (partial tiles),
/// no, uneven and wide padding, groups, batches split across threads, blocks of tile rows that cross images.
/// </summary>
public class WinogradConvTests
{
    // Own instances, as in SimdAgreementTests (a SimdKernels runs one call at a time; test classes run in parallel).
    private static readonly SimdKernels[] EveryGemmPath =
    [
        new(threads: 1, MicroKernelChoice.Avx2), new(threads: 2, MicroKernelChoice.Avx2),
        new(threads: 1, MicroKernelChoice.Avx512), new(threads: 2, MicroKernelChoice.Avx512),
    ];

    private static Tensor Random(Random rng, params int[] dims) => SimdAgreementTests.Random(rng, dims);

    public static TheoryData<int, int, int, int, int, int, int, int, int, int> Cases => WinogradNarrowCases.AddTo(new()
    {
        // batch, C, H, W, K, padTop, padLeft, padBottom, padRight, groups
        { 1, 16, 23, 25, 16, 1, 1, 1, 1, 1 },    // odd output: the last tile row and column half used
        { 1, 24, 20, 37, 40, 0, 0, 0, 0, 1 },    // no padding; 18×35 output, 18 tile columns (a short second lane group)
        { 2, 32, 17, 22, 17, 1, 2, 0, 1, 1 },    // uneven padding, K not a multiple of any tile
        { 3, 32, 13, 11, 32, 2, 2, 2, 2, 2 },     // wide padding, two groups of 16, three images in one block
        { 1, 16, 100, 90, 16, 1, 1, 1, 1, 1 },   // 2500 tiles: several blocks of tile rows
        { 5, 16, 30, 31, 20, 1, 1, 1, 1, 1 },    // blocks of tile rows that start and end inside images
        { 1, 64, 56, 56, 64, 1, 1, 1, 1, 1 },    // the benchmark's layer
    });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_AgreesWithNaive(int n, int c, int h, int w, int k, int pt, int pl, int pb, int pr, int groups)
    {
        var rng = new Random(n + c * 7 + h * 31 + k * 101);
        var input = Random(rng, n, c, h, w);
        var weight = Random(rng, k, c / groups, 3, 3);
        var bias = Random(rng, k);
        var g = Conv2dGeometry.For(input.Shape, weight.Shape, (1, 1), (pt, pl, pb, pr), (1, 1), groups);
        // Without AVX-512F the same cases check that the implicit GEMM takes over.
        Assert.Equal(WinogradTransforms.IsSupported, WinogradConv.Applies(g));
        var expected = Tensor.Zeros(g.OutputShape);
        NaiveKernels.Instance.Conv2dForward(expected, input, weight, bias, g);
        float scale = 1 + expected.ToArray().Max(MathF.Abs);
        foreach (var simd in EveryGemmPath)
        {
            var actual = Tensor.Zeros(g.OutputShape);
            actual.Span.Fill(float.NaN);   // every output element must be written
            simd.Conv2dForward(actual, input, weight, bias, g);
            var e = expected.ToArray();
            var a = actual.ToArray();
            for (int i = 0; i < e.Length; i++)
                Assert.True(MathF.Abs(e[i] - a[i]) <= 1e-5f * scale, $"{g} threads={simd.Threads} {simd.MicroKernel}: element {i}: naive {e[i]:G7}, winograd {a[i]:G7}");
        }
    }

    [Fact]
    public void Applies_OnlyTo3x3Stride1UndilatedWithEnoughChannelsAndTiles()
    {
        Conv2dGeometry Geometry(int c, int hw, int r, int stride = 1, int dilation = 1) =>
            Conv2dGeometry.For(new Shape(1, c, hw, hw), new Shape(c, c, r, r), stride, 1, dilation);
        Assert.Equal(WinogradTransforms.IsSupported, WinogradConv.Applies(Geometry(64, 56, 3)));
        Assert.False(WinogradConv.Applies(Geometry(64, 56, 3, stride: 2)));
        Assert.False(WinogradConv.Applies(Geometry(64, 56, 3, dilation: 2)));
        Assert.False(WinogradConv.Applies(Geometry(64, 56, 5)));
        Assert.False(WinogradConv.Applies(Geometry(8, 56, 3)));
        Assert.False(WinogradConv.Applies(Geometry(64, 13, 3)));
    }

    [Fact]
    public void Forward_AfterWarmUp_AllocatesNothing()
    {
        var g = Conv2dGeometry.For(new Shape(1, 64, 56, 56), new Shape(64, 64, 3, 3), stride: 1, padding: 1);
        var rng = new Random(9);
        var (input, weight, bias) = (Random(rng, 1, 64, 56, 56), Random(rng, 64, 64, 3, 3), Random(rng, 64));
        var output = Tensor.Zeros(g.OutputShape);
        foreach (var simd in EveryGemmPath)
            Assert.Equal(0, WarmAllocations.Fewest(() => simd.Conv2dForward(output, input, weight, bias, g)));
    }
}
