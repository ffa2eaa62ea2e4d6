using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;
using NanoCam.Cpu.Simd.Conv;
using static NanoCam.Cpu.Tests.SimdAgreementTests;

namespace NanoCam.Cpu.Tests;

/// <summary>
/// The direct few-input-channel convolution (StemConv) against the naive reference: kernels 3, 5, 7, strides 1 and 2,
/// paddings 0 to 3 and asymmetric pads, widths that leave a partial vector, 1, 3 and 4 input channels, output channels
/// that fill or leave a partial block of 8, one image into a channel slice and two images filling the output, every
/// fused activation with and without a bias, 1 and 2 threads (the 2-thread pool splitting even small calls).
/// </summary>
public class StemConvTests
{
    private static readonly SimdKernels[] Backends = [new(threads: 1), new(threads: 2, serialWork: 0)];

    public static TheoryData<int, int, int, int, int, int, int, int> Cases => new()
    {
        // batch, C, H, W, K, kernel, stride, pads as the digits top left bottom right
        { 1, 3, 32, 32, 16, 7, 2, 3333 },      // densenet-like stem
        { 1, 3, 29, 37, 64, 3, 2, 0 },      // squeezenet-like: no padding, odd sizes
        { 1, 3, 30, 30, 16, 3, 2, 1111 },      // mobilenet-like
        { 1, 3, 31, 33, 24, 3, 2, 11 },      // asymmetric (TF "same" at stride 2)
        { 1, 1, 28, 28, 5, 5, 1, 2222 },       // MNIST-like, Cout 5: a partial block
        { 1, 1, 28, 28, 1, 3, 1, 0 },       // one output channel
        { 2, 4, 19, 45, 24, 5, 2, 2103 },      // two images, 4 channels, uneven pads
        { 2, 3, 17, 70, 5, 7, 1, 3210 },       // stride 1, 7×7, 64 + 6 columns
        { 1, 4, 12, 50, 16, 3, 1, 1021 },
        { 1, 3, 9, 9, 64, 7, 2, 3333 },        // output 5×5: one masked vector
        { 2, 1, 21, 21, 24, 5, 1, 0 },
        { 1, 3, 40, 17, 5, 3, 1, 3333 },       // padding wider than the kernel's reach
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void StemConv_MatchesTheReference(int n, int c, int h, int w, int k, int kernel, int stride, int pads)
    {
        int pt = pads / 1000, pl = pads / 100 % 10, pb = pads / 10 % 10, pr = pads % 10;
        var rng = new Random(((c * 31 + h) * 17 + w) * 13 + k + kernel + pt);
        var input = Random(rng, n, c, h, w);
        for (int i = 0; i < input.Size; i++) input.Span[i] *= 3f;   // past ReLU6's and HardSwish's bends
        var weight = Random(rng, k, c, kernel, kernel);
        var bias = Random(rng, k);
        var g = Conv2dGeometry.For(input.Shape, weight.Shape, (stride, stride), (pt, pl, pb, pr), (1, 1), 1);
        Assert.True(StemConv.Applies(g), $"{g} should run the stem convolution");
        int offset = n == 1 ? 3 : 0, channels = n == 1 ? k + 5 : k;
        var epilogues = ConvInferenceTests.ActivationEpilogues.Append(ConvEpilogue.Relu).Append(ConvEpilogue.None);
        foreach (var epilogue in epilogues)
        foreach (var b in new[] { bias, null })
        {
            var expected = Tensor.Zeros(n, channels, g.OutputHeight, g.OutputWidth);
            expected.Span.Fill(-7f);
            NaiveKernels.Instance.Conv2dInference(expected, offset, input, weight, b, g, epilogue, null);
            foreach (var simd in Backends)
            {
                var prepared = simd.PrepareConv2dWeight(weight, g);
                var actual = Tensor.Zeros(expected.Shape);
                actual.Span.Fill(-7f);   // channels outside the slice must be left alone
                simd.Conv2dInference(actual, offset, input, weight, b, g, epilogue, prepared);
                float tolerance = 1e-5f * MathF.Sqrt(c * kernel * kernel);
                AssertClose(expected, actual, tolerance, $"{g} {epilogue} bias={b is not null} threads={simd.Threads}");
                simd.Conv2dInference(actual, offset, input, weight, b, g, epilogue, prepared);
                AssertClose(expected, actual, tolerance, $"second call {g} {epilogue}");
            }
        }
    }

    [Fact]
    public void StemConv_OneImageOfTwoIntoAWiderOutput_MatchesTheReference()
    {
        // Two images into a concat slice: the composed path, which runs the stem convolution per image.
        var rng = new Random(11);
        var input = Random(rng, 2, 3, 20, 22);
        var weight = Random(rng, 16, 3, 3, 3);
        var bias = Random(rng, 16);
        var g = Conv2dGeometry.For(input.Shape, weight.Shape, 2, 1, 1, 1);
        var expected = Tensor.Zeros(2, 21, g.OutputHeight, g.OutputWidth);
        expected.Span.Fill(-7f);
        NaiveKernels.Instance.Conv2dInference(expected, 2, input, weight, bias, g, ConvEpilogue.Relu, null);
        foreach (var simd in Backends)
        {
            var actual = Tensor.Zeros(expected.Shape);
            actual.Span.Fill(-7f);
            simd.Conv2dInference(actual, 2, input, weight, bias, g, ConvEpilogue.Relu, simd.PrepareConv2dWeight(weight, g));
            AssertClose(expected, actual, 1e-4f, $"threads={simd.Threads}");
        }
    }

    [Fact]
    public void StemConv_WarmInference_AllocatesNothing()
    {
        var rng = new Random(5);
        foreach (var simd in Backends)
        foreach (var (c, size, k, kernel, stride) in new[] { (3, 64, 16, 7, 2), (1, 28, 8, 5, 1), (4, 33, 24, 3, 2) })
        {
            var input = Random(rng, 2, c, size, size);
            var weight = Random(rng, k, c, kernel, kernel);
            var bias = Random(rng, k);
            var g = Conv2dGeometry.For(input.Shape, weight.Shape, stride, kernel / 2, 1, 1);
            var output = Tensor.Zeros(g.OutputShape);
            var act = new ConvEpilogue(EpilogueActivation.HardSwish);
            // The fewest bytes of three warm calls: one measured call failed once in a 301-test run (the runtime's own work).
            Assert.Equal(0, WarmAllocations.Fewest(() => simd.Conv2dInference(output, 0, input, weight, bias, g, act, null)));
        }
    }
}
