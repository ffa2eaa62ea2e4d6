using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;
using NanoCam.Cpu.Simd.Gemm;
using static NanoCam.Cpu.Tests.SimdAgreementTests;

namespace NanoCam.Cpu.Tests;

/// <summary>
/// The one-row product (Gemv: a classifier on one image) and batches folded into one taller GEMM, through
/// SimdKernels.Gemm, against the naive reference: widths around the 16-lane vectors and 64-column chunks, depths with
/// and without a scalar tail, both stored layouts of B (and of A), alpha and beta, 1 and 2 threads, batches whose
/// B is shared (folded) or not (one GEMV per batch).
/// </summary>
public class GemvTests
{
    private static readonly NaiveKernels Naive = NaiveKernels.Instance;
    private static readonly SimdKernels[] Simd = [new(threads: 1), new(threads: 2), new(threads: 2, MicroKernelChoice.Avx2)];

    [Fact]
    public void OneRow_AgreesWithNaive_ForEveryWidthDepthAndLayout()
    {
        foreach (int n in new[] { 1, 3, 5, 16, 17, 63, 64, 65, 130, 1000, 1024 })
        foreach (int k in new[] { 1, 15, 16, 17, 100, 576 })
        foreach (bool ta in new[] { false, true })
        foreach (bool tb in new[] { false, true })
        {
            var rng = new Random(n * 1000 + k * 4 + (ta ? 2 : 0) + (tb ? 1 : 0));
            var a = ta ? Random(rng, k, 1) : Random(rng, 1, k);
            var b = tb ? Random(rng, n, k) : Random(rng, k, n);
            var c0 = Random(rng, 1, n);
            foreach (var (alpha, beta) in new[] { (1f, 0f), (0.5f, 1f), (-2f, 0.25f) })
            {
                var s = new GemmShape(1, n, k, ta, tb, alpha, beta);
                var expected = Clone(c0);
                Naive.Gemm(expected, a, b, s);
                foreach (var simd in Simd)
                {
                    var actual = Clone(c0);
                    if (beta == 0) actual.Span.Fill(float.NaN);   // beta = 0: C is not read
                    simd.Gemm(actual, a, b, s);
                    AssertClose(expected, actual, 1e-5f * MathF.Sqrt(k), $"1×{n}×{k} tA={ta} tB={tb} α={alpha} β={beta} threads={simd.Threads} {simd.MicroKernel}");
                }
            }
        }
    }

    [Theory]
    [InlineData(3, 4, 70, 7, 0, "three batches sharing B: one 12-row GEMM")]
    [InlineData(3, 4, 10, 7, 0, "three batches sharing a narrow B: not folded")]
    [InlineData(32, 32, 96, 24, 0, "ConvNeXt's MatMul: [1, 32, 32, 24] by [24, 96]")]
    [InlineData(17, 1, 96, 32, 0, "one row per batch, B shared: one 17-row GEMM")]
    [InlineData(5, 1, 33, 20, 1, "one row per batch, a B per batch: five GEMVs")]
    [InlineData(4, 3, 20, 9, 1, "a B per batch: not folded")]
    public void Batches_AgreeWithNaive(int batch, int m, int n, int k, int ownB, string what)
    {
        var rng = new Random(batch * 100 + m + n + k);
        var a = Random(rng, batch, m, k);
        var b = ownB == 1 ? Random(rng, batch, k, n) : Random(rng, k, n);
        var s = new GemmShape(m, n, k, Batch: batch, BatchStrideA: m * k, BatchStrideB: ownB * k * n, BatchStrideC: m * n);
        var expected = Tensor.Zeros(batch, m, n);
        Naive.Gemm(expected, a, b, s);
        foreach (var simd in Simd)
        {
            var actual = Tensor.Zeros(batch, m, n);
            actual.Span.Fill(float.NaN);
            simd.Gemm(actual, a, b, s);
            AssertClose(expected, actual, 1e-5f * MathF.Sqrt(k), $"{what} threads={simd.Threads} {simd.MicroKernel}");
        }
    }

    [Fact]
    public void OneRow_Warm_AllocatesNothing()
    {
        var rng = new Random(5);
        var (a, b, c) = (Random(rng, 1, 576), Random(rng, 1024, 576), Tensor.Zeros(1, 1024));
        var s = new GemmShape(1, 1024, 576, TransposeB: true);
        using var simd = new SimdKernels(threads: 1);
        simd.Gemm(c, a, b, s);
        Assert.Equal(0, WarmAllocations.Fewest(() => simd.Gemm(c, a, b, s)));
    }
}
