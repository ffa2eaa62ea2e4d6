using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;

namespace NanoCam.Cpu.Tests;

/// <summary>
/// The passes SimdKernels splits across its pool from 64 Ki elements (gradient zeroing, ReLU backward, the bias
/// gradient) against the naive kernels, at 1, 2 and 3 threads, on sizes that leave ragged ranges; the gradients start
/// non-zero, so the kernels must add to them; and the split must not change a single bit.
/// </summary>
public class SplitPassTests
{
    private static readonly SimdKernels[] Simd = [new(threads: 1), new(threads: 2), new(threads: 3)];
    private static readonly NaiveKernels Naive = NaiveKernels.Instance;

    private static Tensor Random(Random rng, params int[] dims) => SimdAgreementTests.Random(rng, dims);

    private static Tensor Clone(Tensor t) => Tensor.FromArray(t.ToArray(), t.Shape.Dims.ToArray());

    [Theory]
    [InlineData(5, 1)]          // below the split: one task
    [InlineData(3, 33_333)]     // split, ranges end off a 16-float boundary
    [InlineData(64, 25_088)]    // the GAP-CNN's first activation
    public void ReluForward_AgreesWithNaive_AtEveryThreadCount(int rows, int columns)
    {
        var x = Random(new Random(rows * columns), rows, columns);
        var expected = Tensor.Zeros(rows, columns);
        Naive.ActivationForward(Activation.Relu, expected, x, new ActivationParams());
        foreach (var simd in Simd)
        {
            var actual = Tensor.Zeros(rows, columns);
            actual.Span.Fill(float.NaN); // every element must be written
            simd.ActivationForward(Activation.Relu, actual, x, new ActivationParams());
            Assert.Equal(expected.ToArray(), actual.ToArray());
        }
    }

    [Theory]
    [InlineData(5, 1)]          // below the split: one task
    [InlineData(3, 33_333)]     // 99 999 elements: split, ranges end off a 16-float boundary
    [InlineData(64, 25_088)]    // the GAP-CNN's first activation, 64·32·28·28
    public void ReluBackward_EveryRule_AgreesWithNaive(int rows, int columns)
    {
        var rng = new Random(rows + columns);
        var (x, dy, initial) = (Random(rng, rows, columns), Random(rng, rows, columns), Random(rng, rows, columns));
        var start = initial.Span;
        for (int i = 0; i < start.Length; i += 5) start[i] = -0f;   // a gradient the rule leaves alone keeps its sign of zero
        foreach (var rule in Enum.GetValues<ReluBackwardRule>())
        {
            var expected = Clone(initial);
            Naive.ReluBackward(rule, expected, dy, x);
            foreach (var simd in Simd)
            {
                var actual = Clone(initial);
                simd.ReluBackward(rule, actual, dy, x);
                Assert.Equal(expected.ToArray().Select(BitConverter.SingleToInt32Bits), actual.ToArray().Select(BitConverter.SingleToInt32Bits));
            }
        }
    }

    [Theory]
    [InlineData(1, 3, 5, 5)]
    [InlineData(7, 13, 17, 19)]    // 29 393 elements: one task
    [InlineData(9, 37, 19, 13)]    // 82 251 elements: 37 channels in ragged ranges
    [InlineData(9, 37, 11, 13)]    // 47 619 elements: one task
    [InlineData(64, 32, 28, 28)]   // the GAP-CNN's first convolution
    [InlineData(64, 128, 7, 7)]    // its third: three 16-float chunks and one float a plane, two 64-channel sweeps
    [InlineData(40, 150, 3, 3)]    // planes shorter than a vector; ranges that cross a 64-channel sweep's edge
    [InlineData(11, 70, 4, 12)]    // 48-float planes: one chunk pair and a lone even chunk, no scalar tail
    public void Conv2dBackwardBias_AgreesWithNaiveBitForBit(int n, int k, int h, int w)
    {
        var rng = new Random(n * k + h * w);
        var dOutput = Random(rng, n, k, h, w);
        var initial = Random(rng, k);
        var expected = Clone(initial);
        Naive.Conv2dBackwardBias(expected, dOutput);
        var reference = Clone(initial);
        Simd[0].Conv2dBackwardBias(reference, dOutput);
        // Each channel sums n·h·w values of magnitude ≤ 1 in a different order than the naive loop: allow that many
        // roundings of the running sum.
        float tolerance = 1e-5f * (1 + expected.ToArray().Max(MathF.Abs)) + 1e-7f * n * h * w;
        var e = expected.ToArray();
        foreach (var simd in Simd)
        {
            var actual = Clone(initial);
            simd.Conv2dBackwardBias(actual, dOutput);
            var a = actual.ToArray();
            for (int j = 0; j < k; j++)
                Assert.True(MathF.Abs(e[j] - a[j]) <= tolerance, $"threads={simd.Threads} channel {j}: naive {e[j]:G7}, simd {a[j]:G7}");
            Assert.Equal(reference.ToArray(), a);   // the split changes nothing
        }
    }

    /// <summary>Negative zero must stay negative (its own case: the analyzer takes −0 and 0 for the same data).</summary>
    [Fact]
    public void Fill_SetsEveryElement_ToNegativeZero() => Fill_SetsEveryElement(70_009, -0f);

    [Theory]
    [InlineData(17, 0.25f)]
    [InlineData(70_009, 0.25f)]
    [InlineData(70_009, 0f)]
    public void Fill_SetsEveryElement(int length, float value)
    {
        foreach (var simd in Simd)
        {
            var t = Random(new Random(length), length);
            simd.Fill(t, value);
            Assert.All(t.ToArray(), v => Assert.Equal(BitConverter.SingleToInt32Bits(value), BitConverter.SingleToInt32Bits(v)));
        }
    }

    [Fact]
    public void Conv2dBackwardBias_WrongBiasLength_NamesTheShapes()
    {
        var error = Assert.Throws<ArgumentException>(() => Simd[1].Conv2dBackwardBias(Tensor.Zeros(4), Tensor.Zeros(2, 3, 4, 4)));
        Assert.Contains("[4]", error.Message);
        Assert.Contains("[2, 3, 4, 4]", error.Message);
    }
}
