using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;
using NanoCam.Elementwise;
using static NanoCam.Cpu.Tests.SimdAgreementTests;

namespace NanoCam.Cpu.Tests;

/// <summary>
/// The SIMD PReLU forward (a vector select for a scalar, per-channel, per-column or element-wise slope; the generic
/// kernel for other broadcasts) against the naive kernel bit for bit, with negative zeros and NaNs among the inputs, at
/// 1, 2 and 3 threads, and allocation-free once warm.
/// </summary>
public class PReluForwardTests
{
    private static readonly SimdKernels[] Simd = [new(threads: 1), new(threads: 2), new(threads: 3)];

    public static TheoryData<int[], int[]> Cases => new()
    {
        { [1, 16, 64, 64], [16, 1, 1] },     // one slope per channel (ONNX PRelu after a convolution)
        { [3, 5, 7, 9], [5, 1, 1] },         // runs of 63, split mid-run across threads
        { [2, 3, 5], [1] },                  // one slope
        { [40000], [] },                     // one slope (rank 0), one long run
        { [4, 33], [33] },                   // one slope per column: rows of slopes
        { [3, 4, 17], [3, 4, 17] },          // one slope per element
        { [2, 6, 300], [6, 300] },
        { [3, 4, 5], [3, 1, 5] },            // not a block: the generic kernel
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_AgreesWithNaive_BitForBit(int[] xShape, int[] slopeShape)
    {
        var rng = new Random(xShape.Sum() + 3 * slopeShape.Length);
        var x = Random(rng, xShape);
        var slope = Random(rng, slopeShape);
        var xs = x.Span;
        for (int i = 0; i < xs.Length; i++) xs[i] = (xs[i] - 0.5f) * 4;
        if (xs.Length > 10) (xs[3], xs[7], xs[10]) = (-0f, float.NaN, 0f);
        var expected = Tensor.Zeros(xShape);
        NaiveKernels.Instance.BinaryForward(expected, x, slope, new PRelu());
        foreach (var simd in Simd)
        {
            var y = Tensor.Zeros(xShape);
            y.Span.Fill(-12345f);
            simd.BinaryForward(y, x, slope, new PRelu());
            Assert.True(expected.ToArray().AsSpan().SequenceEqual(y.ToArray()), $"{simd.Threads} threads: differs from the naive PReLU");
        }
    }

    [Fact]
    public void Forward_AllocatesNothing_OnceWarm()
    {
        var rng = new Random(5);
        var (x, slope, y) = (Random(rng, 1, 16, 32, 32), Random(rng, 16, 1, 1), Tensor.Zeros(1, 16, 32, 32));
        foreach (var simd in Simd)
        {
            Assert.Equal(0, WarmAllocations.Fewest(() =>
            {
                for (int i = 0; i < 10; i++) simd.BinaryForward(y, x, slope, new PRelu());
            }));
        }
    }
}
