using NanoCam.Cpu.Simd;

namespace NanoCam.Cpu.Tests;

/// <summary>
/// RowDots (the few-patch-row weight gradient) against a plain double-precision sum: row counts that leave every
/// mix of 4×3 blocks, 4×1 blocks and single rows, lengths with and without a scalar tail; C starts non-zero.
/// </summary>
public class RowDotsTests
{
    [Theory]
    [InlineData(32, 9, 784)]    // the GAP-CNN's first layer per image: 4×3 blocks only
    [InlineData(5, 10, 17)]     // a 4×3 block row with a 4×1 remainder, then single rows; a one-element tail
    [InlineData(4, 2, 16)]      // 4×1 blocks only, no tail
    [InlineData(3, 3, 15)]      // single rows only, all tail
    [InlineData(8, 11, 1)]
    public unsafe void Accumulate_AgreesWithDoubleSums(int rowsA, int rowsB, int length)
    {
        var rng = new Random(rowsA * 100 + rowsB * 10 + length);
        float[] Random(int count) => Enumerable.Range(0, count).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var (a, b, c) = (Random(rowsA * length), Random(rowsB * length), Random(rowsA * rowsB));
        var initial = (float[])c.Clone();
        fixed (float* pc = c, pa = a, pb = b) RowDots.Accumulate(pc, pa, rowsA, pb, rowsB, length);
        for (int k = 0; k < rowsA; k++)
        for (int q = 0; q < rowsB; q++)
        {
            double sum = initial[k * rowsB + q], magnitude = Math.Abs(sum);
            for (int j = 0; j < length; j++)
            {
                sum += (double)a[k * length + j] * b[q * length + j];
                magnitude += Math.Abs((double)a[k * length + j] * b[q * length + j]);
            }
            Assert.True(Math.Abs(sum - c[k * rowsB + q]) <= 1e-6 * (1 + magnitude), $"C[{k}, {q}] = {c[k * rowsB + q]:G9}, expected {sum:G9}");
        }
    }
}
