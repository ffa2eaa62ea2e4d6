using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;
using NanoCam.Cpu.Simd.Conv;
using NanoCam.Cpu.Simd.Gemm;

namespace NanoCam.Cpu.Tests;

/// <summary>
/// The Winograd forward on maps of at most 8 tile columns, where the 8-lane transforms run (WinogradTransforms.Narrow):
/// the GAP-CNN's 14×14 and 7×7 layers at batch 64 (blocks of tile rows that start and end inside images), 1 to 8 tile
/// columns with odd widths, against the naive direct sum; and the forward and input gradient bit-identical run to run
/// and at 1 or 2 threads.
/// </summary>
public class WinogradNarrowTileTests
{
    private static readonly SimdKernels[] EveryGemmPath =
    [
        new(threads: 1, MicroKernelChoice.Avx2), new(threads: 2, MicroKernelChoice.Avx2),
        new(threads: 1, MicroKernelChoice.Avx512), new(threads: 2, MicroKernelChoice.Avx512),
    ];

    [Theory]
    [InlineData(64, 32, 14, 14, 64)]    // 7 tile columns
    [InlineData(64, 64, 7, 7, 128)]     // 4 tile columns, the last half used
    [InlineData(48, 16, 5, 1, 16)]      // 1 tile column, half used
    [InlineData(16, 16, 9, 15, 24)]     // 8 tile columns, the widest narrow row
    [InlineData(8, 16, 11, 17, 16)]     // 9 tile columns: the 16-lane transforms again
    public void Forward_AgreesWithNaive(int n, int c, int h, int w, int k)
    {
        var rng = new Random(n * 3 + c + h * 17 + w);
        var input = SimdAgreementTests.Random(rng, n, c, h, w);
        var weight = SimdAgreementTests.Random(rng, k, c, 3, 3);
        var bias = SimdAgreementTests.Random(rng, k);
        var g = Conv2dGeometry.For(input.Shape, weight.Shape, stride: 1, padding: 1);
        Assert.Equal(WinogradTransforms.IsSupported, WinogradConv.Applies(g));
        var expected = Tensor.Zeros(g.OutputShape);
        NaiveKernels.Instance.Conv2dForward(expected, input, weight, bias, g);
        var e = expected.ToArray();
        float scale = 1 + e.Max(MathF.Abs);
        foreach (var simd in EveryGemmPath)
        {
            var actual = Tensor.Zeros(g.OutputShape);
            actual.Span.Fill(float.NaN);   // every output element must be written
            simd.Conv2dForward(actual, input, weight, bias, g);
            var a = actual.ToArray();
            for (int i = 0; i < e.Length; i++)
                Assert.True(MathF.Abs(e[i] - a[i]) <= 1e-5f * scale, $"{g} threads={simd.Threads} {simd.MicroKernel}: element {i}: naive {e[i]:G7}, winograd {a[i]:G7}");
        }
    }

    [Theory]
    [InlineData(32, 14, 64)]   // 7 tile columns: one tile row per vector
    [InlineData(64, 7, 128)]   // 4 tile columns: two tile rows per vector
    public void ForwardAndInputGradient_RunToRunAndAcrossThreads_AreBitIdentical(int c, int hw, int k)
    {
        var rng = new Random(c + hw);
        var input = SimdAgreementTests.Random(rng, 64, c, hw, hw);
        var weight = SimdAgreementTests.Random(rng, k, c, 3, 3);
        var bias = SimdAgreementTests.Random(rng, k);
        var g = Conv2dGeometry.For(input.Shape, weight.Shape, stride: 1, padding: 1);
        var dOutput = SimdAgreementTests.Random(rng, g.OutputShape.Dims.ToArray());
        var initial = SimdAgreementTests.Random(rng, input.Shape.Dims.ToArray());
        float[]? forward = null, inputGradient = null;
        // The same micro-kernel at 1 and 2 threads, twice each: every element's sums run in one fixed order.
        foreach (var simd in new[] { EveryGemmPath[2], EveryGemmPath[2], EveryGemmPath[3], EveryGemmPath[3] })
        {
            var y = Tensor.Zeros(g.OutputShape);
            simd.Conv2dForward(y, input, weight, bias, g);
            var dx = Tensor.FromArray(initial.ToArray(), input.Shape.Dims.ToArray());
            simd.Conv2dBackwardInput(dx, dOutput, weight, g);
            forward ??= y.ToArray();
            inputGradient ??= dx.ToArray();
            Assert.Equal(forward, y.ToArray());
            Assert.Equal(inputGradient, dx.ToArray());
        }
    }
}
