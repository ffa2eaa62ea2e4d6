using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;

namespace NanoCam.Cpu.Tests;

/// <summary>
/// The SIMD GEMM's in-place path for products of a few rows (A packed into 8-row panels, B read where it lies by the
/// 8×48 and masked tiles: a transformer block's 17×32 by 32×96, attention's 17×16 by 16×17) against the naive GEMM:
/// row counts on both sides of the 8-row panel, column counts on both sides of 16, 32 and 48, A stored transposed,
/// beta 0 and 1, batches with and without a shared B; and a warm call allocates nothing.
/// </summary>
public sealed class InPlaceGemmTests
{
    public static TheoryData<int, int, int> Shapes => new()
    {
        { 2, 1, 1 }, { 7, 16, 5 }, { 8, 48, 32 }, { 9, 17, 16 }, { 17, 96, 32 }, { 17, 32, 64 }, { 17, 64, 32 },
        { 17, 17, 16 }, { 17, 16, 17 }, { 33, 49, 8 }, { 16, 100, 3 }, { 24, 47, 33 }, { 5, 200, 12 },
    };

    private static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        var (e, a) = (expected.ToArray(), actual.ToArray());
        for (int i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(e[i] - a[i]) <= 1e-5f * (1 + Math.Abs(e[i])), $"{what}: element {i} is {a[i]}, naive {e[i]}");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void SmallProducts_AgreeWithTheNaiveGemm(int m, int n, int k)
    {
        var rng = new Random(m * 10007 + n * 101 + k);
        foreach (bool transposeA in new[] { false, true })
        foreach (float beta in new[] { 0f, 1f })
        {
            var a = SimdAgreementTests.Random(rng, transposeA ? k : m, transposeA ? m : k);
            var b = SimdAgreementTests.Random(rng, k, n);
            var start = SimdAgreementTests.Random(rng, m, n);
            var shape = new GemmShape(m, n, k, TransposeA: transposeA, Beta: beta);
            var expected = Tensor.FromArray(start.ToArray(), m, n);
            NaiveKernels.Instance.Gemm(expected, a, b, shape);
            foreach (var simd in new[] { new SimdKernels(1), new SimdKernels(2) })
            {
                var actual = Tensor.FromArray(start.ToArray(), m, n);
                simd.Gemm(actual, a, b, shape);
                AssertClose(expected, actual, $"{m}×{k} by {k}×{n}, transposed A {transposeA}, beta {beta}, {simd.Threads} threads");
            }
        }
    }

    [Theory]
    [InlineData(17, 96, 32)]
    [InlineData(9, 53, 256)]    // the deepest product the in-place path takes: one depth block of the packed GEMM
    [InlineData(9, 53, 300)]    // deeper: both paths packed, summed in two blocks
    public void AProduct_GivesTheSameBits_InPlaceOrPacked(int m, int n, int k)
    {
        // Alpha 1/2 keeps a product on the packed GEMM; a power of two scales exactly, so the in-place product (alpha 1)
        // halved must equal it to the bit: each element is the same chain of fused multiply-adds on either path.
        var rng = new Random(k);
        var a = SimdAgreementTests.Random(rng, m, k);
        var b = SimdAgreementTests.Random(rng, k, n);
        var simd = new SimdKernels(1);
        var inPlace = Tensor.Zeros(m, n);
        var packed = Tensor.Zeros(m, n);
        simd.Gemm(inPlace, a, b, new GemmShape(m, n, k));
        simd.Gemm(packed, a, b, new GemmShape(m, n, k, Alpha: 0.5f));
        var (whole, half) = (inPlace.ToArray(), packed.ToArray());
        for (int i = 0; i < whole.Length; i++) Assert.Equal(0.5f * whole[i], half[i]);
    }

    [Fact]
    public void Batches_WithOwnAndSharedB_AgreeWithTheNaiveGemm()
    {
        var rng = new Random(3);
        // Attention's two heads: [2, 17, 16] by [2, 16, 17], then [2, 17, 17] by [2, 17, 16].
        foreach (var (m, n, k, shareB) in new[] { (17, 17, 16, false), (17, 16, 17, false), (17, 40, 8, true), (3, 96, 32, true) })
        {
            const int batch = 3;
            var a = SimdAgreementTests.Random(rng, batch, m, k);
            var b = shareB ? SimdAgreementTests.Random(rng, k, n) : SimdAgreementTests.Random(rng, batch, k, n);
            var shape = new GemmShape(m, n, k, Batch: batch, BatchStrideA: m * k, BatchStrideB: shareB ? 0 : k * n, BatchStrideC: m * n);
            var expected = Tensor.Zeros(batch, m, n);
            NaiveKernels.Instance.Gemm(expected, a, b, shape);
            var actual = Tensor.Zeros(batch, m, n);
            actual.Span.Fill(float.NaN);   // beta 0: C is written, never read
            new SimdKernels(1).Gemm(actual, a, b, shape);
            AssertClose(expected, actual, $"{batch} × {m}×{k} by {k}×{n}, shared B {shareB}");
        }
    }

    [Fact]
    public void WarmCall_AllocatesNothing()
    {
        var rng = new Random(9);
        var (a, b, c) = (SimdAgreementTests.Random(rng, 17, 32), SimdAgreementTests.Random(rng, 32, 96), Tensor.Zeros(17, 96));
        using var simd = new SimdKernels(1);
        var shape = new GemmShape(17, 96, 32);
        simd.Gemm(c, a, b, shape);
        Assert.Equal(0, WarmAllocations.Fewest(() =>
        {
            for (int i = 0; i < 10; i++) simd.Gemm(c, a, b, shape);
        }));
    }
}
