using NanoCam.Cpu.Simd;
using NanoCam.Cpu.Simd.Gemm;

namespace NanoCam.Cpu.Tests;

/// <summary>
/// The AVX-512 kernel's narrow edge tiles (one or two vectors per row in the last, partial 48-column panel) compute each
/// element with the same chain of fused multiply-adds as a full tile: a column gives bit-identical results whether it
/// falls in the edge panel or inside a full one.
/// </summary>
public sealed class GemmEdgeTileTests
{
    [Theory]
    [InlineData(16, 1f)]
    [InlineData(29, 1f)]
    [InlineData(40, 1f)]
    [InlineData(16, 0.5f)]   // alpha ≠ 1: the kernel's own edge tile into a buffer, then scaled (not the masked tile into C)
    [InlineData(29, 0.5f)]
    [InlineData(40, 0.5f)]
    public void ColumnsOfTheEdgePanel_EqualTheSameColumnsInAFullPanel_Bitwise(int edgeColumns, float alpha)
    {
        // The CPU's own kernel: 8×48 where AVX-512 runs (the narrow edge tiles), else 6×16 (its edge is the full tile).
        var simd = new SimdKernels(threads: 1);
        int nr = simd.MicroKernel == MicroKernelChoice.Avx512 ? 48 : 16;
        edgeColumns = 1 + (edgeColumns - 1) % (nr - 1);
        const int m = 19, k = 300;
        var rng = new Random(17);
        var a = SimdAgreementTests.Random(rng, m, k);
        // B: nr + edgeColumns columns, so its last panel is the edge; wide: the same columns followed by nr more, so
        // those columns sit inside a full panel.
        int n = nr + edgeColumns, wideN = n + nr;
        var b = SimdAgreementTests.Random(rng, k, n);
        var wideB = Tensor.Zeros(k, wideN);
        for (int p = 0; p < k; p++)
            for (int j = 0; j < wideN; j++) wideB.Span[p * wideN + j] = b.Span[p * n + Math.Min(j, n - 1)];
        var c = Tensor.Zeros(m, n);
        var wideC = Tensor.Zeros(m, wideN);
        simd.Gemm(c, a, b, new GemmShape(m, n, k, Alpha: alpha));
        simd.Gemm(wideC, a, wideB, new GemmShape(m, wideN, k, Alpha: alpha));
        var unscaled = Tensor.Zeros(m, n);
        simd.Gemm(unscaled, a, b, new GemmShape(m, n, k));
        for (int i = 0; i < m; i++)
            for (int j = nr; j < n; j++)
            {
                Assert.Equal(wideC.Span[i * wideN + j], c.Span[i * n + j]);
                Assert.Equal(alpha * unscaled.Span[i * n + j], c.Span[i * n + j]);   // a power of two scales exactly
            }
    }
}
