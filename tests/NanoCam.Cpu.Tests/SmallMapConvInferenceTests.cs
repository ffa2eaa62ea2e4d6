using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;
using NanoCam.Cpu.Simd.Gemm;
using static NanoCam.Cpu.Tests.SimdAgreementTests;

namespace NanoCam.Cpu.Tests;

/// <summary>
/// 1×1 inference convolutions on small maps, where the 8×48 tile does not fit the map's columns (the masked tile reads
/// the input planes in place) or the map is one pixel (the packed GEMV), against the naive reference: maps of 1 to 169
/// pixels (one to three vectors, the last one partial), output channels that leave a short row panel, depths of one
/// and of two packed blocks (more than 512), every fused activation, into a channel slice or filling the output with
/// three images, 1 and 2 threads, both micro-kernels.
/// </summary>
public class SmallMapConvInferenceTests
{
    private static readonly SimdKernels[] Backends =
    [
        new(threads: 1), new(threads: 2), new(threads: 1, MicroKernelChoice.Avx2),
    ];

    public static TheoryData<int, int, int, int, int> Cases => new()
    {
        // batch, C, H, W, K
        { 1, 576, 1, 1, 144 },   // MobileNetV3's squeeze-excitation: one pixel, the packed GEMV
        { 1, 7, 1, 1, 13 },      // one pixel, an odd depth and a short row panel
        { 1, 600, 1, 1, 21 },    // one pixel, two depth blocks of 300
        { 1, 96, 4, 4, 576 },    // a 4×4 map: one full vector
        { 1, 40, 2, 3, 19 },     // 6 columns: one masked vector
        { 1, 13, 5, 5, 30 },     // 25 columns: two vectors, the second of 9
        { 1, 600, 7, 7, 20 },    // 49 columns: a full tile and one column; two depth blocks
        { 1, 40, 8, 8, 240 },    // 64 columns: a full tile and a 16-column vector
        { 3, 24, 4, 4, 11 },     // three images filling the output
        { 1, 64, 13, 13, 29 },   // 169 columns: three full tiles and 25 columns
        { 2, 5, 1, 1, 9 },       // two one-pixel images
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void OneByOne_OnSmallMaps_MatchesTheReference(int n, int c, int h, int w, int k)
    {
        var rng = new Random(c * 131 + h * 17 + w + k);
        var input = Random(rng, n, c, h, w);
        for (int i = 0; i < input.Size; i++) input.Span[i] *= 3f;   // past ReLU6's and HardSwish's bends
        var weight = Random(rng, k, c, 1, 1);
        var bias = Random(rng, k);
        var g = Conv2dGeometry.For(input.Shape, weight.Shape, 1, 0, 1, 1);
        int offset = n == 1 ? 3 : 0, channels = n == 1 ? k + 5 : k;
        var epilogues = ConvInferenceTests.ActivationEpilogues.Append(ConvEpilogue.Relu).Append(ConvEpilogue.None);
        foreach (var epilogue in epilogues)
        foreach (var b in new[] { bias, null })
        {
            var expected = Tensor.Zeros(n, channels, h, w);
            expected.Span.Fill(-7f);
            NaiveKernels.Instance.Conv2dInference(expected, offset, input, weight, b, g, epilogue, null);
            foreach (var simd in Backends)
            {
                var prepared = simd.PrepareConv2dWeight(weight, g);
                var actual = Tensor.Zeros(expected.Shape);
                actual.Span.Fill(-7f);   // channels outside the slice must be left alone
                simd.Conv2dInference(actual, offset, input, weight, b, g, epilogue, prepared);
                AssertClose(expected, actual, 1e-5f * MathF.Sqrt(c), $"{g} {epilogue} bias={b is not null} threads={simd.Threads} {simd.MicroKernel}");
                simd.Conv2dInference(actual, offset, input, weight, b, g, epilogue, prepared);
                AssertClose(expected, actual, 1e-5f * MathF.Sqrt(c), $"second call {g} {epilogue}");
            }
        }
    }

    [Fact]
    public void SmallMaps_WarmInference_AllocatesNothing()
    {
        var rng = new Random(4);
        using var simd = new SimdKernels(threads: 1);
        foreach (var (h, w) in new[] { (1, 1), (4, 4), (7, 7) })
        {
            var input = Random(rng, 1, 96, h, w);
            var weight = Random(rng, 100, 96, 1, 1);
            var g = Conv2dGeometry.For(input.Shape, weight.Shape, 1, 0, 1, 1);
            var output = Tensor.Zeros(g.OutputShape);
            var prepared = simd.PrepareConv2dWeight(weight, g);
            var act = new ConvEpilogue(EpilogueActivation.HardSwish);
            simd.Conv2dInference(output, 0, input, weight, null, g, act, prepared);
            Assert.Equal(0, WarmAllocations.Fewest(() => simd.Conv2dInference(output, 0, input, weight, null, g, act, prepared)));
        }
    }
}
