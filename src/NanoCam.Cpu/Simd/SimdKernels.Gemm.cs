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
                _gemm.Multiply(cc, s.N, ca, s.Lda, cb, s.Ldb, m, s.N, s.K, s.TransposeA, s.TransposeB, s.Alpha, s.Beta, _workspace, _pool);
            }
        }
    }
}
