using NanoCam.Cpu.Simd;
using NanoCam.Cpu.Simd.Conv;
using System.Runtime.Intrinsics.X86;
using NanoCam.Cpu.Simd.Gemm;
using static NanoCam.Cpu.Tests.DepthwiseAgreement;
using static NanoCam.Cpu.Tests.SimdAgreementTests;

namespace NanoCam.Cpu.Tests;

/// <summary>
/// The channel-blocked depthwise kernel for small maps (DepthwiseSmallMaps: sixteen channels per vector) against the
/// naive reference: channel counts that leave a partial block of 16, maps from 1×1 to the size limits, 3×3, 5×5 and 1×1
/// kernels, stride 1 and 2, "same", uneven and no padding, dilation 2, two outputs per input channel, batch 1 and 3,
/// 1 and 2 threads; forward, inference with every fused activation (weights turned per call and packed once), and the
/// stride-1 input gradient (added and written).
/// </summary>
public class DepthwiseSmallMapsTests
{
    private static readonly SimdKernels[] Simd = [new(threads: 1), new(threads: 2)];

    public static TheoryData<int, int, int, int, int, int, int, int, int, string> Cases => new()
    {
        // batch, channels, multiplier, height, width, kernel, stride, dilation, pad, what
        { 1, 576, 1, 4, 4, 5, 1, 1, 2, "MobileNetV3's 4×4 stage" },
        { 1, 21, 1, 4, 4, 3, 1, 1, 1, "a partial block of 5 channels" },
        { 3, 40, 1, 8, 8, 5, 1, 1, 2, "three images, 8×8" },
        { 1, 37, 1, 12, 12, 3, 1, 1, 1, "12×12" },
        { 1, 72, 1, 16, 16, 5, 1, 1, 2, "MnasNet's 16×16 5×5: the output limit" },
        { 1, 48, 1, 32, 32, 5, 2, 1, 2, "stride 2 from 32×32: 36×36 padded inputs" },
        { 2, 35, 2, 9, 11, 3, 2, 1, 1, "two outputs per input channel, stride 2, two images" },
        { 1, 24, 1, 8, 8, 5, 2, 1, 2, "stride 2, 8×8 → 4×4" },
        { 2, 19, 1, 16, 16, 5, 2, 1, 2, "stride 2 from 16×16" },
        { 1, 5, 1, 7, 9, 3, 2, 1, -1, "stride 2, uneven padding, 7×9" },
        { 1, 16, 1, 6, 6, 3, 1, 2, 2, "dilation 2" },
        { 1, 9, 2, 5, 5, 3, 1, 1, 1, "two outputs per input channel" },
        { 1, 33, 1, 1, 1, 3, 1, 1, 1, "1×1 map: only the centre tap" },
        { 1, 17, 1, 5, 3, 1, 1, 1, 0, "1×1 kernel, no padding" },
        { 3, 18, 1, 6, 5, 3, 1, 1, 0, "no padding" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void SmallMaps_AgreeWithNaive(int batch, int channels, int multiplier, int height, int width, int kernel, int stride, int dilation, int pad, string what)
    {
        var rng = new Random(channels * 31 + height * 7 + kernel + stride);
        var input = Random(rng, batch, channels, height, width);
        var weight = Random(rng, channels * multiplier, 1, kernel, kernel);
        var bias = Random(rng, channels * multiplier);
        var padding = pad >= 0 ? (pad, pad, pad, pad) : (0, 1, 1, 0);
        var g = Conv2dGeometry.For(input.Shape, weight.Shape, (stride, stride), padding, (dilation, dilation), channels);
        Assert.True(DepthwiseConv.Applies(g), $"{what}: {g} is depthwise");
        Assert.True(DepthwiseSmallMaps.Applies(g) == Avx512F.IsSupported, $"{what}: {g} should run on the small-map kernel where AVX-512 runs");

        var expected = ForwardMatchesNaive(Simd, g, input, weight, bias, what);

        // Inference: each activation applied before the output is written, against the convolution then the plain activation.
        foreach (var epilogue in ConvInferenceTests.ActivationEpilogues.Append(ConvEpilogue.Relu).Append(ConvEpilogue.None))
        {
            var activated = ConvInferenceTests.PlainActivation(epilogue, expected);
            foreach (var simd in Simd)
            {
                // The weights turned on each call, then packed once (the small-map kernel's layout, where it runs).
                var prepared = simd.PrepareConv2dWeight(weight, g with { Batch = 1 });
                Assert.Equal(Avx512F.IsSupported, prepared is not null);
                foreach (var weights in new[] { null, prepared })
                {
                    var actual = Tensor.Zeros(g.OutputShape);
                    actual.Span.Fill(float.NaN);
                    simd.Conv2dInference(actual, 0, input, weight, bias, g, epilogue, weights);
                    AssertClose(activated, actual, 1e-5f, $"inference {epilogue}, {what}, threads={simd.Threads}, packed={weights is not null}");
                }
            }
        }

        if (!DepthwiseConv.AppliesBackwardInput(g)) return;
        var dOutput = Random(rng, g.OutputShape.ToArray());
        InputGradientMatchesNaive(Simd, g, dOutput, Random(rng, g.InputShape.ToArray()), weight, what);
    }

    [Fact]
    public unsafe void Square16_TransposesABlock_AcrossStridesAndInPlace()
    {
        if (!Avx512F.IsSupported) return;   // the AVX-512 transpose runs only there (the kernels check the same)
        var source = new float[16 * 21];
        for (int i = 0; i < source.Length; i++) source[i] = i * 0.5f - 7f;
        var target = new float[16 * 19];
        fixed (float* src = source, dst = target)
        {
            PanelTranspose.Square16(dst, 19, src, 21);
            for (int i = 0; i < 16; i++)
            for (int j = 0; j < 16; j++)
                Assert.Equal(source[i * 21 + j], target[j * 19 + i]);
            for (int j = 0; j < 19 * 16; j++)
                if (j % 19 >= 16) Assert.Equal(0f, target[j]);   // the stride's gap is left alone
            PanelTranspose.Square16(src, 21, src, 21);   // in place
            for (int i = 0; i < 16; i++)
            for (int j = 0; j < 16; j++)
                Assert.Equal(target[i * 19 + j], source[i * 21 + j]);   // the original's element [j, i]
        }
    }

    [Fact]
    public void SmallMaps_OnlyUpToTheLimits()
    {
        Assert.Equal(Avx512F.IsSupported, DepthwiseSmallMaps.Applies(new Conv2dGeometry(1, 32, 16, 16, 32, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1, Groups: 32)));
        Assert.Equal(Avx512F.IsSupported, DepthwiseSmallMaps.Applies(new Conv2dGeometry(1, 32, 32, 32, 32, 5, 5, 2, 2, 2, 2, 2, 2, Groups: 32)));
        Assert.False(DepthwiseSmallMaps.Applies(new Conv2dGeometry(1, 32, 17, 17, 32, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1, Groups: 32)));
        Assert.False(DepthwiseSmallMaps.Applies(new Conv2dGeometry(1, 32, 64, 64, 32, 3, 3, 2, 2, 1, 1, 1, 1, Groups: 32)));
        Assert.False(DepthwiseSmallMaps.Applies(new Conv2dGeometry(1, 32, 40, 40, 32, 5, 5, 4, 4, 2, 2, 2, 2, Groups: 32)));
    }

    [Fact]
    public void SmallMaps_WarmInference_AllocatesNothing()
    {
        var rng = new Random(3);
        var input = Random(rng, 1, 48, 8, 8);
        var weight = Random(rng, 48, 1, 5, 5);
        var g = Conv2dGeometry.For(input.Shape, weight.Shape, (1, 1), (2, 2, 2, 2), (1, 1), 48);
        var output = Tensor.Zeros(g.OutputShape);
        using var simd = new SimdKernels(threads: 1);
        var hardSwish = new ConvEpilogue(EpilogueActivation.HardSwish);
        var prepared = simd.PrepareConv2dWeight(weight, g);
        foreach (var weights in new[] { null, prepared })
        {
            simd.Conv2dInference(output, 0, input, weight, null, g, hardSwish, weights);
            Assert.Equal(0, WarmAllocations.Fewest(() => simd.Conv2dInference(output, 0, input, weight, null, g, hardSwish, weights)));
        }
    }
}
