namespace NanoCam.Cpu.Simd;

public sealed unsafe partial class SimdKernels
{
    public void Gemm(Tensor c, Tensor a, Tensor b, GemmShape s)
    {
        fixed (float* pa = a.Data, pb = b.Data, pc = c.Data)
        {
            for (int batch = 0; batch < s.Batch; batch++)
            {
                _gemm.Multiply(pc + s.OffsetC + (long)batch * s.BatchStrideC, s.N,
                    pa + s.OffsetA + (long)batch * s.BatchStrideA, s.Lda,
                    pb + s.OffsetB + (long)batch * s.BatchStrideB, s.Ldb,
                    s.M, s.N, s.K, s.TransposeA, s.TransposeB, s.Alpha, s.Beta, _workspace, _pool);
            }
        }
    }
}
