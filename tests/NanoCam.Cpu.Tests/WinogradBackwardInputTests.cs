using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;
using NanoCam.Cpu.Simd.Conv;
using NanoCam.Cpu.Simd.Gemm;

namespace NanoCam.Cpu.Tests;

/// <summary>
/// The input gradient of 3×3 stride-1 convolutions through Winograd (the turned filter, see WinogradConv.BackwardInput)
/// against the naive kernel: odd map sizes, every padding from 0 to 2 (uneven too), groups, batches split across
/// threads, both micro-kernels; dX starts non-zero, so the kernel must add to it.
/// </summary>
public class WinogradBackwardInputTests
{
    private static readonly SimdKernels[] EveryGemmPath =
    [
        new(threads: 1, MicroKernelChoice.Avx2), new(threads: 2, MicroKernelChoice.Avx2),
        new(threads: 1, MicroKernelChoice.Avx512), new(threads: 2, MicroKernelChoice.Avx512),
    ];

    private static Tensor Random(Random rng, params int[] dims) => SimdAgreementTests.Random(rng, dims);

    public static TheoryData<int, int, int, int, int, int, int, int, int, int> Cases => WinogradNarrowCases.AddTo(new()
    {
        // batch, C, H, W, K, padTop, padLeft, padBottom, padRight, groups
        { 1, 16, 23, 25, 16, 1, 1, 1, 1, 1 },    // odd maps: the last tile row and column of dX half used
        { 1, 24, 20, 37, 40, 0, 0, 0, 0, 1 },    // no padding: the turned convolution pads by 2
        { 2, 32, 17, 22, 17, 1, 2, 0, 1, 1 },    // uneven padding, K not a multiple of any tile
        { 4, 32, 13, 11, 32, 2, 2, 2, 2, 2 },    // wide padding (turned: none), two groups of 16
        { 5, 16, 30, 31, 20, 1, 1, 1, 1, 1 },    // blocks of tile rows that start and end inside images
        { 64, 32, 14, 14, 64, 1, 1, 1, 1, 1 },   // the GAP-CNN's second convolution
        { 64, 64, 7, 7, 128, 1, 1, 1, 1, 1 },    // and its third
    });

    [Theory]
    [MemberData(nameof(Cases))]
    public void BackwardInput_AgreesWithNaive(int n, int c, int h, int w, int k, int pt, int pl, int pb, int pr, int groups)
    {
        var rng = new Random(n + c * 7 + h * 31 + k * 101);
        var weight = Random(rng, k, c / groups, 3, 3);
        var g = Conv2dGeometry.For(new Shape(n, c, h, w), weight.Shape, (1, 1), (pt, pl, pb, pr), (1, 1), groups);
        Assert.Equal(WinogradTransforms.IsSupported, WinogradConv.AppliesBackwardInput(g));
        var dOutput = Random(rng, g.OutputShape.Dims.ToArray());
        var initial = Random(rng, n, c, h, w);
        var expected = Tensor.FromArray(initial.ToArray(), n, c, h, w);
        NaiveKernels.Instance.Conv2dBackwardInput(expected, dOutput, weight, g);
        var e = expected.ToArray();
        float scale = 1 + e.Max(MathF.Abs);
        foreach (var simd in EveryGemmPath)
        {
            var actual = Tensor.FromArray(initial.ToArray(), n, c, h, w);
            simd.Conv2dBackwardInput(actual, dOutput, weight, g);
            var a = actual.ToArray();
            for (int i = 0; i < e.Length; i++)
                Assert.True(MathF.Abs(e[i] - a[i]) <= 1e-5f * scale, $"{g} threads={simd.Threads} {simd.MicroKernel}: element {i}: naive {e[i]:G7}, winograd {a[i]:G7}");
        }
    }

    [Fact]
    public void BackwardInput_OneHotGradient_IsTheTurnedFilter()
    {
        // One image, 16 → 16 channels, 32×32 (256 tiles), pad 1: dY = 1 at (k = 3, y = 10, x = 17) and 0 elsewhere,
        // so dX[c, 10 + r − 1, 17 + s − 1] = W[3, c, r, s] and dX is zero outside that 3×3 window.
        const int size = 32, y0 = 10, x0 = 17;
        var rng = new Random(5);
        var weight = Random(rng, 16, 16, 3, 3);
        var g = Conv2dGeometry.For(new Shape(1, 16, size, size), weight.Shape, stride: 1, padding: 1);
        Assert.Equal(WinogradTransforms.IsSupported, WinogradConv.AppliesBackwardInput(g));
        var dOutput = Tensor.Zeros(g.OutputShape);
        dOutput.Span[(3 * size + y0) * size + x0] = 1f;
        var w = weight.ToArray();
        var dInput = Tensor.Zeros(g.InputShape);
        EveryGemmPath[2].Conv2dBackwardInput(dInput, dOutput, weight, g);
        var dx = dInput.ToArray();
        for (int c = 0; c < 16; c++)
        for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++)
        {
            int r = y - y0 + 1, s = x - x0 + 1;
            float expected = r is >= 0 and < 3 && s is >= 0 and < 3 ? w[((3 * 16 + c) * 3 + r) * 3 + s] : 0f;
            float actual = dx[(c * size + y) * size + x];
            Assert.True(MathF.Abs(expected - actual) <= 1e-6f, $"dX[{c}, {y}, {x}] = {actual}, expected {expected}");
        }
    }

    [Fact]
    public void BackwardInput_AfterWarmUp_AllocatesNothing()
    {
        var g = Conv2dGeometry.For(new Shape(64, 32, 14, 14), new Shape(64, 32, 3, 3), stride: 1, padding: 1);
        var rng = new Random(9);
        var (dOutput, weight) = (Random(rng, 64, 64, 14, 14), Random(rng, 64, 32, 3, 3));
        var dInput = Tensor.Zeros(g.InputShape);
        foreach (var simd in EveryGemmPath)
        {
            simd.Conv2dBackwardInput(dInput, dOutput, weight, g);
            long fewest = long.MaxValue;
            for (int call = 0; call < 3; call++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                simd.Conv2dBackwardInput(dInput, dOutput, weight, g);
                fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
            }
            Assert.Equal(0, fewest);
        }
    }
}
