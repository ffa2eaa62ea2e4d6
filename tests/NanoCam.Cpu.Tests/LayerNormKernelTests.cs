using NanoCam.Cpu.Simd;
using static NanoCam.Cpu.Tests.SimdAgreementTests;

namespace NanoCam.Cpu.Tests;

/// <summary>
/// The SIMD backend's one-kernel layer normalization (<see cref="ILayerNormKernels"/>) against the definition computed
/// here in double, row by row: rows shorter than a vector, with tails, and enough of them to split across threads.
/// </summary>
public class LayerNormKernelTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 7)]
    [InlineData(17, 32)]
    [InlineData(1024, 24)]
    [InlineData(256, 48)]
    [InlineData(9, 16)]
    [InlineData(7, 63)]
    [InlineData(6, 64)]
    [InlineData(5, 65)]
    [InlineData(4, 33)]
    [InlineData(1024, 96)]
    [InlineData(300, 100)]
    [InlineData(5, 1000)]
    public void LayerNormForward_MatchesTheDoubleDefinition_WithAndWithoutBias(int rows, int size)
    {
        var rng = new Random(rows * 31 + size);
        var x = Random(rng, rows, size);
        // An offset far from zero: the variance of the centred values has no cancellation to hide behind.
        for (int i = 0; i < x.Size; i++) x.Span[i] = 3f * x.Span[i] + 40f;
        var gamma = Random(rng, size);
        var beta = Random(rng, size);
        const float epsilon = 1e-6f;
        foreach (var bias in new[] { beta, null })
        {
            var expected = new double[x.Size];
            for (int r = 0; r < rows; r++)
            {
                double mean = 0, squares = 0;
                for (int j = 0; j < size; j++) mean += x.Span[r * size + j];
                mean /= size;
                for (int j = 0; j < size; j++) squares += Math.Pow(x.Span[r * size + j] - mean, 2);
                double inv = 1 / Math.Sqrt(squares / size + epsilon);
                for (int j = 0; j < size; j++)
                    expected[r * size + j] = (x.Span[r * size + j] - mean) * inv * gamma.Span[j] + (bias is null ? 0 : bias.Span[j]);
            }
            float[]? first = null;
            foreach (var threads in new[] { 1, 2, 3 })
            {
                var y = Tensor.Zeros(rows, size);
                new SimdKernels(threads).LayerNormForward(y, x, gamma, bias, size, epsilon);
                var actual = y.ToArray();
                for (int i = 0; i < actual.Length; i++)
                    Assert.True(Math.Abs(actual[i] - expected[i]) <= 2e-5 * (1 + Math.Abs(expected[i])),
                        $"{rows}×{size}, bias {bias is not null}, {threads} threads: element {i} = {actual[i]:R}, expected {expected[i]:R}");
                if (first is null) first = actual;
                else Assert.Equal(first, actual);
            }
        }
    }

    [Fact]
    public void LayerNormForward_RefusesAScaleThatIsNotOneValuePerElementOfARow()
    {
        var x = Tensor.Zeros(4, 6);
        var ex = Assert.Throws<ArgumentException>(() => new SimdKernels(1).LayerNormForward(Tensor.Zeros(4, 6), x, Tensor.Zeros(5), null, 6, 1e-5f));
        Assert.Contains("layer-norm", ex.Message);
    }
}
