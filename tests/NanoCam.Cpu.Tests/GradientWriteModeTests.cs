using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;
using static NanoCam.Cpu.Tests.SimdAgreementTests;

namespace NanoCam.Cpu.Tests;

/// <summary>
/// The backward kernels that can write the first gradient instead of adding it (accumulate: false; the tape then skips
/// zeroing the buffer): starting from a buffer of NaNs, the written gradient must equal the reference's gradient
/// accumulated into zeros, everywhere (a cell the kernel forgot would stay NaN).
/// </summary>
public class GradientWriteModeTests
{
    private static readonly NaiveKernels Naive = NaiveKernels.Instance;
    private static readonly SimdKernels[] Simd = [new(threads: 1), new(threads: 2), new(threads: 3)];
    private static readonly IKernels[] Every = [Naive, .. Simd];

    private static Tensor Nans(Shape shape)
    {
        var t = Tensor.Zeros(shape);
        t.Span.Fill(float.NaN);
        return t;
    }

    public static TheoryData<int, int, int, int, int, int, int, int, int, int> ConvWriteCases => new()
    {
        // batch, C, H, W, K, kernel, stride, pad, dilation, groups
        { 3, 32, 14, 14, 64, 3, 1, 1, 1, 1 },   // Winograd input gradient (the GAP-CNN's second layer; 147 tiles)
        { 9, 64, 7, 7, 48, 3, 1, 1, 1, 1 },     // Winograd, 7×7 maps, batch split across threads
        { 4, 32, 13, 15, 32, 3, 1, 1, 1, 2 },   // Winograd per group (16 channels each)
        { 2, 3, 11, 9, 8, 3, 2, 1, 1, 1 },      // strided: col2im into cleared planes
        { 2, 8, 10, 10, 8, 1, 1, 0, 1, 1 },     // 1×1: the GEMM writes dX in place
        { 1, 8, 9, 9, 8, 3, 1, 2, 2, 1 },       // dilated, one image (threaded GEMM)
        { 2, 8, 9, 9, 8, 3, 1, 1, 1, 8 },       // depthwise
    };

    [Theory]
    [MemberData(nameof(ConvWriteCases))]
    public void Conv2dBackwardInput_Written_EqualsReferenceFromZero(int n, int c, int h, int w, int k, int r, int stride, int pad, int dilation, int groups)
    {
        var rng = new Random(n + c + h + k);
        var weight = SimdAgreementTests.Random(rng, k, c / groups, r, r);
        var g = Conv2dGeometry.For(new Shape(n, c, h, w), weight.Shape, stride, pad, dilation, groups);
        var dOutput = SimdAgreementTests.Random(rng, g.OutputShape.ToArray());
        var expected = Tensor.Zeros(g.InputShape);
        Naive.Conv2dBackwardInput(expected, dOutput, weight, g);
        var naiveWritten = Nans(g.InputShape);
        Naive.Conv2dBackwardInput(naiveWritten, dOutput, weight, g, accumulate: false);
        Assert.Equal(expected.ToArray(), naiveWritten.ToArray());
        foreach (var simd in Simd)
        {
            var actual = Nans(g.InputShape);
            simd.Conv2dBackwardInput(actual, dOutput, weight, g, accumulate: false);
            AssertClose(expected, actual, 1e-5f, $"conv {g} threads={simd.Threads}");
        }
    }

    [Theory]
    [InlineData(2, 3, 28, 28, 2, 2, 0, false)]   // the training step's pool
    [InlineData(2, 4, 11, 13, 3, 2, 1, true)]    // padded, overlapping windows, ceil mode: cells no window picks stay 0
    [InlineData(1, 2, 7, 5, 2, 1, 0, false)]     // stride 1: a cell picked by two windows gets both
    public void MaxPool2dBackward_Written_EqualsReferenceFromZero(int n, int c, int h, int w, int kernel, int stride, int pad, bool ceil)
    {
        var rng = new Random(h * w + kernel);
        var input = SimdAgreementTests.Random(rng, n, c, h, w);
        var g = Pool2dGeometry.For(input.Shape, kernel, stride, pad, ceil);
        var (y, argmax) = (Tensor.Zeros(g.OutputShape), Tensor.Zeros(g.OutputShape));
        Naive.MaxPool2dForward(y, argmax, input, g);
        var dOutput = SimdAgreementTests.Random(rng, g.OutputShape.ToArray());
        var expected = Tensor.Zeros(g.InputShape);
        Naive.MaxPool2dBackward(expected, dOutput, argmax, g);
        foreach (var kernels in Every)
        {
            var actual = Nans(g.InputShape);
            kernels.MaxPool2dBackward(actual, dOutput, argmax, g, accumulate: false);
            Assert.Equal(expected.ToArray(), actual.ToArray());
        }
    }

    [Fact]
    public void GlobalAvgPoolBackward_Written_EqualsReferenceFromZero()
    {
        var dOutput = SimdAgreementTests.Random(new Random(4), 5, 7, 1, 1);
        var expected = Tensor.Zeros(5, 7, 3, 5);
        Naive.GlobalAvgPoolBackward(expected, dOutput);
        foreach (var kernels in Every)
        {
            var actual = Nans(expected.Shape);
            kernels.GlobalAvgPoolBackward(actual, dOutput, accumulate: false);
            Assert.Equal(expected.ToArray(), actual.ToArray());
        }
    }

    [Theory]
    [InlineData(3, 33_333)]    // split across threads, ranges ending off a 16-float boundary
    [InlineData(1, 21)]        // a vector and a scalar tail
    public void ReluBackward_Written_EqualsReferenceFromZero_ForEveryRule(int rows, int columns)
    {
        var rng = new Random(rows * columns);
        var (x, dy) = (SimdAgreementTests.Random(rng, rows, columns), SimdAgreementTests.Random(rng, rows, columns));
        for (int i = 0; i < dy.Size; i += 5) dy.Span[i] = -0f;   // a passed −0 must come out as the reference's 0 + (−0)
        static int[] Bits(Tensor t) => t.ToArray().Select(BitConverter.SingleToInt32Bits).ToArray();
        foreach (var rule in Enum.GetValues<ReluBackwardRule>())
        {
            var expected = Tensor.Zeros(rows, columns);
            Naive.ReluBackward(rule, expected, dy, x);
            foreach (var kernels in Every)
            {
                var actual = Nans(x.Shape);
                kernels.ReluBackward(rule, actual, dy, x, accumulate: false);
                Assert.Equal(Bits(expected), Bits(actual));
            }
        }
    }
}
