using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;
using NanoCam.Cpu.Simd.Conv;
using NanoCam.Cpu.Simd.Gemm;

namespace NanoCam.Cpu.Tests;

/// <summary>
/// The SIMD inference convolution (pre-packed weights, bias + ReLU epilogue, output written into a channel slice)
/// against the naive reference's definition: convolution, ReLU, copy into the slice.
/// </summary>
public class ConvInferenceTests
{
    private static readonly SimdKernels[] EveryGemmPath =
    [
        new(threads: 1, MicroKernelChoice.Avx2), new(threads: 2, MicroKernelChoice.Avx2),
        new(threads: 1, MicroKernelChoice.Avx512), new(threads: 2, MicroKernelChoice.Avx512),
    ];

    public static TheoryData<int, int, int, int, int, int, int, int, int> Cases => new()
    {
        // batch, C, H(=W), K, kernel, stride, pad, dilation, groups
        { 1, 512, 13, 1000, 1, 1, 0, 1, 1 },  // SqueezeNet conv10: 1000 rows, four row blocks, N = 169
        { 1, 64, 55, 16, 1, 1, 0, 1, 1 },     // a squeeze layer: N = 3025
        { 1, 40, 13, 20, 1, 1, 0, 1, 2 },     // 1×1, two groups of 10 rows: a short row panel, B read in place
        { 1, 3, 35, 64, 3, 2, 0, 1, 1 },      // conv1's shape: K = 27, stride 2 (the direct stem kernel where AVX-512 runs)
        { 1, 64, 13, 256, 3, 1, 1, 1, 1 },    // a 13×13 expand (the implicit GEMM, or Winograd if it takes it)
        { 1, 24, 17, 40, 3, 2, 2, 2, 2 },     // groups, dilation, padding
        { 2, 16, 9, 24, 3, 1, 1, 1, 1 },      // two images filling the output
        { 1, 32, 30, 32, 3, 1, 1, 1, 1 },     // Winograd's geometry: nothing prepared, ReLU as a pass
        { 1, 24, 23, 24, 3, 2, 1, 1, 24 },    // depthwise 3×3 stride 2 to 12×12: the small-map kernel, weights packed once
        { 1, 24, 40, 24, 3, 2, 1, 1, 24 },    // depthwise 3×3 stride 2 to 20×20: the plane kernel, nothing prepared, ReLU as a pass
        { 2, 16, 19, 16, 5, 1, 2, 1, 16 },    // depthwise 5×5, two images filling the output
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Conv2dInference_IntoAChannelSlice_MatchesTheReference(int n, int c, int size, int k, int kernel, int stride, int pad, int dilation, int groups)
    {
        var rng = new Random(c * 31 + k);
        var input = SimdAgreementTests.Random(rng, n, c, size, size);
        var weight = SimdAgreementTests.Random(rng, k, c / groups, kernel, kernel);
        var bias = SimdAgreementTests.Random(rng, k);
        var g = Conv2dGeometry.For(input.Shape, weight.Shape, (stride, stride), (pad, pad, pad, pad), (dilation, dilation), groups);
        // Channels [5, 5 + K) of a wider output (each image its own slice, K + 9 planes apart), and, for several
        // images, also the output they fill.
        (int Offset, int Channels)[] layouts = n == 1 ? [(5, k + 9)] : [(0, k), (5, k + 9)];
        foreach (var (offset, channels) in layouts)
        foreach (var (epilogue, b) in Epilogues(bias))
        {
            var expected = Tensor.Zeros(n, channels, g.OutputHeight, g.OutputWidth);
            expected.Span.Fill(-7f);
            NaiveKernels.Instance.Conv2dInference(expected, offset, input, weight, b, g, epilogue, null);
            float scale = 1 + expected.ToArray().Max(MathF.Abs);
            foreach (var simd in EveryGemmPath)
            {
                var prepared = simd.PrepareConv2dWeight(weight, g);
                // Depthwise weights are packed for the small-map kernel where it runs, else nothing is prepared.
                Assert.Equal(WinogradConv.Applies(g) || Winograd4x4.Applies(g) || DepthwiseConv.Applies(g) && !DepthwiseSmallMaps.Applies(g) || StemConv.Applies(g), prepared is null);
                var actual = Tensor.Zeros(expected.Shape);
                actual.Span.Fill(-7f);   // channels outside the slice must be left alone
                simd.Conv2dInference(actual, offset, input, weight, b, g, epilogue, prepared);
                AssertClose(expected, actual, 1e-5f * scale, $"{g} {epilogue} bias={b is not null} threads={simd.Threads} {simd.MicroKernel}");
                // A second call reuses the packed weight and its own buffers.
                simd.Conv2dInference(actual, offset, input, weight, b, g, epilogue, prepared);
                AssertClose(expected, actual, 1e-5f * scale, $"second call {g}");
            }
        }
    }

    [Theory]
    [InlineData(1, 1)]   // 1×1, packed weights
    [InlineData(3, 1)]   // 3×3 (Winograd or the implicit GEMM)
    [InlineData(3, 8)]   // depthwise 3×3
    public void Conv2dInference_SeveralImagesIntoAWiderOutput_WritesEachImagesSliceWithoutATemporary(int kernel, int groups)
    {
        var rng = new Random(9);
        var input = SimdAgreementTests.Random(rng, 3, 8, 7, 7);
        var weight = SimdAgreementTests.Random(rng, groups == 1 ? 6 : 8, 8 / groups, kernel, kernel);
        var g = Conv2dGeometry.For(input.Shape, weight.Shape, 1, kernel / 2, 1, groups);
        int k = g.OutputChannels;
        var (expected, actual) = (Tensor.Zeros(3, k + 4, 7, 7), Tensor.Zeros(3, k + 4, 7, 7));
        NaiveKernels.Instance.Conv2dInference(expected, 4, input, weight, null, g, ConvEpilogue.Relu, null);
        var simd = EveryGemmPath[2];
        var prepared = simd.PrepareConv2dWeight(weight, g);
        simd.Conv2dInference(actual, 4, input, weight, null, g, ConvEpilogue.Relu, prepared);
        AssertClose(expected, actual, 1e-5f, $"three images at channel 4 of {k + 4}");
        Assert.Equal(0, WarmAllocations.Fewest(() => simd.Conv2dInference(actual, 4, input, weight, null, g, ConvEpilogue.Relu, prepared)));
        AssertClose(expected, actual, 1e-5f, "second call");
    }

    [Fact]
    public void Conv2dInference_RefusesAWeightPreparedForAnotherGeometry()
    {
        var simd = EveryGemmPath[0];
        // Eight input channels: more than the direct stem kernel takes, so both geometries run the prepacked GEMM.
        var weight = SimdAgreementTests.Random(new Random(1), 8, 8, 1, 1);
        var g = Conv2dGeometry.For(new Shape(1, 8, 6, 6), weight.Shape, 1, 0, 1, 1);
        var prepared = simd.PrepareConv2dWeight(weight, g);
        Assert.NotNull(prepared);
        var other = Conv2dGeometry.For(new Shape(1, 8, 6, 6), new Shape(8, 8, 3, 3), 1, 1, 1, 1);
        var ex = Assert.Throws<ArgumentException>(() => simd.Conv2dInference(Tensor.Zeros(1, 8, 6, 6), 0, Tensor.Zeros(1, 8, 6, 6),
            Tensor.Zeros(8, 8, 3, 3), null, other, ConvEpilogue.None, prepared));
        Assert.Contains("prepared weight", ex.Message);
    }

    /// <summary>Every epilogue kind a plan fuses, with its ONNX defaults (ReLU6 for Clip, HardSwish's 1/6, 1/2 for the gate).</summary>
    public static readonly ConvEpilogue[] ActivationEpilogues =
    [
        new(EpilogueActivation.Clip, 0f, 6f), new(EpilogueActivation.Clip, -0.5f, 0.25f), new(EpilogueActivation.LeakyRelu, 0.1f),
        new(EpilogueActivation.Sigmoid), new(EpilogueActivation.HardSigmoid, 0.2f, 0.5f), new(EpilogueActivation.HardSwish),
        new(EpilogueActivation.Silu), new(EpilogueActivation.HardSigmoidGate, 1f / 6, 0.5f),
    ];

    /// <summary>ReLU and the identity with and without a bias (the register epilogue), then every other activation with one.</summary>
    private static IEnumerable<(ConvEpilogue, Tensor?)> Epilogues(Tensor bias) =>
        [(ConvEpilogue.Relu, bias), (ConvEpilogue.Relu, null), (ConvEpilogue.None, bias), (ConvEpilogue.None, null), .. ActivationEpilogues.Select(e => (e, (Tensor?)bias))];

    [Theory]
    [InlineData(1, 16, 9, 24, 1, 1, 0, 1)]    // 1×1: the prepacked GEMM (B read in place where 48 columns fit)
    [InlineData(1, 8, 11, 12, 3, 2, 1, 1)]    // 3×3 stride 2: the implicit im2col GEMM
    [InlineData(1, 12, 10, 12, 3, 1, 1, 12)]  // depthwise: the direct kernel and an activation pass
    public void Conv2dInference_EachEpilogue_MatchesTheConvolutionThenThePlainActivation(int n, int c, int size, int k, int kernel, int stride, int pad, int groups)
    {
        var rng = new Random(k * 7 + c);
        var input = SimdAgreementTests.Random(rng, n, c, size, size);
        for (int i = 0; i < input.Size; i++) input.Span[i] *= 4f;   // past ReLU6's and HardSwish's bends
        var weight = SimdAgreementTests.Random(rng, k, c / groups, kernel, kernel);
        var bias = SimdAgreementTests.Random(rng, k);
        var g = Conv2dGeometry.For(input.Shape, weight.Shape, (stride, stride), (pad, pad, pad, pad), (1, 1), groups);
        var convolved = Tensor.Zeros(g.OutputShape.ToArray());
        NaiveKernels.Instance.Conv2dForward(convolved, input, weight, bias, g);
        foreach (var epilogue in ActivationEpilogues.Append(ConvEpilogue.Relu))
        {
            var expected = PlainActivation(epilogue, convolved);
            IKernels[] backends = [NaiveKernels.Instance, .. EveryGemmPath];
            foreach (var kernels in backends)
            {
                var actual = Tensor.Zeros(g.OutputShape.ToArray());
                kernels.Conv2dInference(actual, 0, input, weight, bias, g, epilogue, kernels.PrepareConv2dWeight(weight, g));
                AssertClose(expected, actual, 1e-5f * (1 + expected.ToArray().Max(MathF.Abs)), $"{kernels.GetType().Name} {g} {epilogue}");
            }
        }
    }

    /// <summary>The activation as the unfused graph runs it after the convolution, node by node, on the naive kernels.</summary>
    internal static Tensor PlainActivation(ConvEpilogue epilogue, Tensor x)
    {
        var k = NaiveKernels.Instance;
        var y = Tensor.Zeros(x.Shape.ToArray());
        switch (epilogue.Kind)
        {
            case EpilogueActivation.Relu: k.ActivationForward(Activation.Relu, y, x, default); break;
            case EpilogueActivation.LeakyRelu: k.ActivationForward(Activation.LeakyRelu, y, x, new ActivationParams(Alpha: epilogue.A)); break;
            case EpilogueActivation.Clip: k.ActivationForward(Activation.Clip, y, x, new ActivationParams(Low: epilogue.A, High: epilogue.B)); break;
            case EpilogueActivation.Sigmoid: k.ActivationForward(Activation.Sigmoid, y, x, default); break;
            case EpilogueActivation.HardSigmoid: k.UnaryForward(y, x, new Elementwise.HardSigmoid(epilogue.A, epilogue.B)); break;
            case EpilogueActivation.HardSwish: k.UnaryForward(y, x, new Elementwise.HardSwish()); break;
            case EpilogueActivation.Silu or EpilogueActivation.HardSigmoidGate:
                // Mul(x, gate(x)): the gate node, then the Mul node.
                var gate = Tensor.Zeros(x.Shape.ToArray());
                if (epilogue.Kind == EpilogueActivation.Silu) k.ActivationForward(Activation.Sigmoid, gate, x, default);
                else k.UnaryForward(gate, x, new Elementwise.HardSigmoid(epilogue.A, epilogue.B));
                k.BinaryForward(BinaryOp.Mul, y, x, gate);
                break;
            default: x.Span.CopyTo(y.Span); break;
        }
        return y;
    }

    private static void AssertClose(Tensor expected, Tensor actual, float tolerance, string tag)
    {
        var e = expected.ToArray();
        var a = actual.ToArray();
        for (int i = 0; i < e.Length; i++)
            Assert.True(MathF.Abs(e[i] - a[i]) <= tolerance, $"{tag}: element {i}: reference {e[i]:G7}, actual {a[i]:G7}");
    }
}
