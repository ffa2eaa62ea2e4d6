using NanoCam.Cpu.Simd.Gemm;

namespace NanoCam.Cpu.Simd;

public sealed unsafe partial class SimdKernels
{
    // Two shapes skip the packed GEMM's set-up: batches that share B and sit row after row in A and C are one taller
    // product where B has FoldColumns columns or more (a MatMul of [1, 32, 32, 24] activations by a [24, 96] weight:
    // 32 products of 32 rows become one of 1024);
    // a product of one row (a classifier on one image) is a GEMV over B as stored (see Gemv), where AVX-512 runs.

    private readonly Gemv _gemv = new();

    /// <summary>
    /// Columns from which batches sharing B are folded. Measured (1 thread, under load) on ConvNeXt's MatMuls: 32 batches
    /// of 32×24 by 24×96 took 72 µs folded against 148 one by one, but 32×96 by 96×24 took 125 against 84 and 16×192 by
    /// 192×48 71 against 56 (with one or no full 48-column panel the folded A is packed only to be read once).
    /// </summary>
    private const int FoldColumns = 64;

    /// <summary>The most elements of op(A) the in-place path packs per product.</summary>
    private const int InPlaceMaxOperand = 16384;

    /// <summary>
    /// The deepest product the in-place path runs: one depth block of the packed GEMM (<see cref="SimdGemm{TKernel}"/>'s
    /// 256), so that either path sums each element in one chain, p in order, and gives the same bits (a deeper product is
    /// summed block by block there).
    /// </summary>
    private const int InPlaceMaxDepth = 256;

    /// <summary>
    /// Whether a product runs on the calling thread through the in-place tiles: AVX-512 in hardware, B stored as is, alpha 1,
    /// beta 0 or 1, a few rows (op(A) of at most <see cref="InPlaceMaxOperand"/> elements) and work the pool would not
    /// split anyway. (A stored Bᵀ stays with the packed GEMM: transposing it first cost more than packing it, measured on
    /// 17×32 by (32×32)ᵀ.)
    /// </summary>
    private bool InPlaceApplies(in GemmShape s, int m) =>
        MaskedTile8.IsSupported && System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated && s.Alpha == 1f && s.Beta is 0f or 1f
        && m > 1 && s.N > 0 && s.K > 0 && s.K <= InPlaceMaxDepth && (long)m * s.K <= InPlaceMaxOperand
        && !s.TransposeB && !_pool.Splits((long)m * s.N * s.K);

    /// <summary>
    /// C (+)= op(A)·op(B) for the small products of a transformer block (17×32 by 32×96, attention's 17×16 by 16×17):
    /// op(A) packed into 8-row panels (a few hundred floats), B read where it lies by the 8×48 tile and, for the last rows
    /// and columns, the masked tile. The packed GEMM would pack
    /// B's panels too, which for so few rows costs as much as the products; each sum is the same chain of fused
    /// multiply-adds in p order.
    /// </summary>
    private void InPlace(float* c, float* a, float* b, in GemmShape s, int m)
    {
        int k = s.K, n = s.N, panels = (m + 7) / 8, lda = s.Lda;
        float* packed = _workspace.PackedA(panels * 8 * k);
        for (int q = 0; q < panels; q++)
        {
            float* dst = packed + (long)q * 8 * k;
            int first = q * 8, valid = Math.Min(8, m - first);
            if (!s.TransposeA && valid == 8)
            {
                PanelTranspose.Rows8(dst, 8, a + (long)first * lda, lda, k);
                continue;
            }
            // The last, partial panel (its missing rows zero) or a transposed A: element by element.
            new Span<float>(dst, 8 * k).Clear();
            if (s.TransposeA)
                for (int p = 0; p < k; p++)
                {
                    float* source = a + (long)p * lda + first;
                    for (int i = 0; i < valid; i++) dst[p * 8 + i] = source[i];
                }
            else
                for (int i = 0; i < valid; i++)
                {
                    float* source = a + (long)(first + i) * lda;
                    for (int p = 0; p < k; p++) dst[p * 8 + i] = source[p];
                }
        }
        long ldb = n;
        bool accumulate = s.Beta == 1f;
        for (int q = 0; q < panels; q++)
        {
            int i0 = q * 8, rows = Math.Min(8, m - i0);
            float* panel = packed + (long)q * 8 * k;
            for (int j = 0; j < n; j += 48)
            {
                int cols = Math.Min(48, n - j);
                float* tile = c + (long)i0 * n + j;
                if (rows == 8 && cols == 48) StridedTile8x48.Tile(k, panel, b + j, ldb, tile, n, 1f, accumulate);
                else MaskedTile8.Tile(k, panel, b + j, ldb, tile, n, cols, rows, accumulate, null, default);
            }
        }
    }

    public void Gemm(Tensor c, Tensor a, Tensor b, GemmShape s)
    {
        int batches = s.Batch, m = s.M;
        if (batches > 1 && s.BatchStrideB == 0 && !s.TransposeA && s.BatchStrideA == s.M * s.K && s.BatchStrideC == s.M * s.N && s.N >= FoldColumns)
            (batches, m) = (1, s.M * s.Batch);
        fixed (float* pa = a.Data, pb = b.Data, pc = c.Data)
        {
            for (int batch = 0; batch < batches; batch++)
            {
                float* ca = pa + s.OffsetA + (long)batch * s.BatchStrideA, cb = pb + s.OffsetB + (long)batch * s.BatchStrideB;
                float* cc = pc + s.OffsetC + (long)batch * s.BatchStrideC;
                if (m == 1 && s.K > 0 && s.Alpha != 0 && System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
                {
                    _gemv.Multiply(cc, ca, s.TransposeA ? s.Lda : 1, cb, s.Ldb, s.N, s.K, s.TransposeB, s.Alpha, s.Beta, _pool);
                    continue;
                }
                if (InPlaceApplies(s, m))
                {
                    InPlace(cc, ca, cb, s, m);
                    continue;
                }
                _gemm.Multiply(cc, s.N, ca, s.Lda, cb, s.Ldb, m, s.N, s.K, s.TransposeA, s.TransposeB, s.Alpha, s.Beta, _workspace, _pool);
            }
        }
    }
}
