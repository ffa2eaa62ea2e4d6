using NanoCam.Cpu.Simd;
using NanoCam.Cpu.Simd.Conv;
using static NanoCam.Cpu.Tests.DepthwiseAgreement;
using static NanoCam.Cpu.Tests.SimdAgreementTests;

namespace NanoCam.Cpu.Tests;

/// <summary>
/// The depthwise convolution kernel (DepthwiseConv: one input channel per group) against the naive reference: every
/// kernel size of 3, 5 and 7 × stride 1 and 2 × no, "same" and uneven padding × widths that leave every vector tail
/// (5 to 141 columns: scalar rows, single 8- and 16-wide vectors, the overlapping last vector, runs of 64) × batch 1 and 3,
/// at 1 and 2 threads; the input gradient (added and written) and the weight gradient (added) of each case too.
/// </summary>
public class DepthwiseConvTests
{
    private static readonly SimdKernels[] Simd = [new(threads: 1), new(threads: 2)];

    public static TheoryData<int, int> KernelsAndStrides => new() { { 3, 1 }, { 3, 2 }, { 5, 1 }, { 5, 2 }, { 7, 1 }, { 7, 2 } };

    [Theory]
    [MemberData(nameof(KernelsAndStrides))]
    public void DepthwiseForward_AgreesWithNaive_ForEveryPaddingWidthAndBatch(int kernel, int stride)
    {
        int half = kernel / 2;
        var paddings = new[] { (0, 0, 0, 0), (half, half, half, half), (half - 1, half, half, half - 1) };
        foreach (var (top, left, bottom, right) in paddings)
        foreach (int width in new[] { 5, 9, 17, 27, 41, 141 })
        foreach (int batch in new[] { 1, 3 })
        {
            int height = 9, channels = 6;
            if (width + left + right < kernel || height + top + bottom < kernel) continue;
            var rng = new Random(kernel * 1000 + stride * 100 + width + batch + top);
            var input = Random(rng, batch, channels, height, width);
            var weight = Random(rng, channels, 1, kernel, kernel);
            var bias = Random(rng, channels);
            var g = Conv2dGeometry.For(input.Shape, weight.Shape, (stride, stride), (top, left, bottom, right), (1, 1), channels);
            AgreesWithNaive(g, input, weight, bias);
        }
    }

    [Theory]
    [InlineData(2, 8, 16, 3, 1, 1, "two outputs per input channel")]
    [InlineData(1, 4, 4, 3, 1, 2, "dilation 2")]
    [InlineData(1, 4, 4, 5, 2, 2, "stride 2, dilation 2")]
    [InlineData(2, 5, 5, 3, 2, 1, "stride 2 without padding, no bias")]
    [InlineData(1, 3, 3, 1, 1, 1, "1×1")]
    public void DepthwiseForward_AgreesWithNaive_ForMultipliersAndDilation(int batch, int channels, int outputs, int kernel, int stride, int dilation, string what)
    {
        var rng = new Random(channels + outputs + dilation);
        var input = Random(rng, batch, channels, 21, 70);
        var weight = Random(rng, outputs, 1, kernel, kernel);
        int pad = what.Contains("without padding") ? 0 : dilation * (kernel / 2);
        var g = Conv2dGeometry.For(input.Shape, weight.Shape, (stride, stride), (pad, pad, pad, pad), (dilation, dilation), channels);
        AgreesWithNaive(g, input, weight, what.Contains("no bias") ? null : Random(rng, outputs), what);
    }

    [Fact]
    public void AppliesBackwardInput_OnlyForStrideOneAndOneOutputPerChannel()
    {
        Assert.True(DepthwiseConv.AppliesBackwardInput(new Conv2dGeometry(1, 8, 9, 9, 8, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1, Groups: 8)));
        Assert.False(DepthwiseConv.AppliesBackwardInput(new Conv2dGeometry(1, 8, 9, 9, 8, 3, 3, StrideHeight: 2, StrideWidth: 2, Groups: 8)));
        Assert.False(DepthwiseConv.AppliesBackwardInput(new Conv2dGeometry(1, 8, 9, 9, 16, 3, 3, Groups: 8)));
        // Padding wider than the kernel's reach would need a negative pad on the turned kernel.
        Assert.False(DepthwiseConv.AppliesBackwardInput(new Conv2dGeometry(1, 8, 9, 9, 8, 3, 3, PadTop: 3, Groups: 8)));
    }

    [Fact]
    public void Applies_OnlyWhenEachGroupHasOneInputChannel()
    {
        Assert.True(DepthwiseConv.Applies(new Conv2dGeometry(1, 32, 8, 8, 32, 3, 3, Groups: 32)));
        Assert.True(DepthwiseConv.Applies(new Conv2dGeometry(1, 32, 8, 8, 64, 3, 3, Groups: 32)));
        Assert.False(DepthwiseConv.Applies(new Conv2dGeometry(1, 32, 8, 8, 32, 3, 3, Groups: 16)));
        // A single-channel input with one group is an ordinary convolution (a first layer on a grey image).
        Assert.False(DepthwiseConv.Applies(new Conv2dGeometry(1, 1, 8, 8, 16, 3, 3)));
    }

    [Fact]
    public void DepthwiseKernelOff_RunsThePerGroupGemm_WithTheSameResult()
    {
        var rng = new Random(7);
        var input = Random(rng, 2, 12, 15, 29);
        var weight = Random(rng, 12, 1, 3, 3);
        var bias = Random(rng, 12);
        var g = Conv2dGeometry.For(input.Shape, weight.Shape, 2, 1, groups: 12);
        var direct = Tensor.Zeros(g.OutputShape);
        new SimdKernels(threads: 2).Conv2dForward(direct, input, weight, bias, g);
        var gemm = Tensor.Zeros(g.OutputShape);
        var off = new SimdKernels(threads: 2) { DepthwiseKernel = false };
        off.Conv2dForward(gemm, input, weight, bias, g);
        Assert.False(off.PrepareConv2dWeight(weight, g) is null, "with the kernel off, the inference path packs the per-group weights");
        AssertClose(direct, gemm, 1e-5f, "direct against per-group GEMM");
    }

    private static void AgreesWithNaive(Conv2dGeometry g, Tensor input, Tensor weight, Tensor? bias, string what = "")
    {
        Assert.True(DepthwiseConv.Applies(g), $"{g} should run on the depthwise kernel");
        ForwardMatchesNaive(Simd, g, input, weight, bias, $"{what} {g}");
        InputGradientAgreesWithNaive(g, weight, what);
        WeightGradientAgreesWithNaive(g, input, what);
    }

    /// <summary>dW added to (the direct kernel: a dot product per tap over polyphase planes), against the naive kernel.</summary>
    private static void WeightGradientAgreesWithNaive(Conv2dGeometry g, Tensor input, string what)
    {
        var rng = new Random(g.InputWidth * 13 + g.KernelHeight + g.Batch);
        var dOutput = Random(rng, g.OutputShape.ToArray());
        var start = Random(rng, g.WeightShape.ToArray());
        var expected = Clone(start);
        Reference.Conv2dBackwardWeight(expected, dOutput, input, g);
        foreach (var simd in Simd)
        {
            var actual = Clone(start);
            simd.Conv2dBackwardWeight(actual, dOutput, input, g);
            AssertClose(expected, actual, 2e-5f, $"backward weight, {what} {g} threads={simd.Threads}");
        }
    }

    [Fact]
    public void DepthwiseWeightGradient_AgreesWithThePerGroupGemm_AndAllocatesNothingWarm()
    {
        var rng = new Random(11);
        var input = Random(rng, 2, 8, 14, 14);
        var weight = Random(rng, 16, 1, 5, 5);
        var g = Conv2dGeometry.For(input.Shape, weight.Shape, (2, 2), (2, 2, 2, 2), (1, 1), 8);
        var dOutput = Random(rng, g.OutputShape.ToArray());
        using var direct = new SimdKernels(threads: 1);
        using var gemm = new SimdKernels(threads: 1) { DepthwiseKernel = false };
        var (a, b) = (Tensor.Zeros(g.WeightShape), Tensor.Zeros(g.WeightShape));
        direct.Conv2dBackwardWeight(a, dOutput, input, g);
        gemm.Conv2dBackwardWeight(b, dOutput, input, g);
        AssertClose(b, a, 1e-4f, "direct against per-group GEMM");
        Assert.Equal(0, WarmAllocations.Fewest(() => direct.Conv2dBackwardWeight(a, dOutput, input, g)));
    }

    /// <summary>dX added to and written, against the naive kernel (the direct path for stride 1 and one output per channel, the GEMMs otherwise).</summary>
    private static void InputGradientAgreesWithNaive(Conv2dGeometry g, Tensor weight, string what)
    {
        var rng = new Random(g.InputWidth * 7 + g.KernelHeight);
        var dOutput = Random(rng, g.OutputShape.ToArray());
        InputGradientMatchesNaive(Simd, g, dOutput, Random(rng, g.InputShape.ToArray()), weight, $"{what} {g}");
    }
}
