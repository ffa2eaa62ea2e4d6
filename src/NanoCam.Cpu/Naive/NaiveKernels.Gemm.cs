namespace NanoCam.Cpu.Naive;

public sealed partial class NaiveKernels
{
    /// <summary>C[i,j] = alpha · Σ_p op(A)[i,p] · op(B)[p,j] + beta · C[i,j], one batch after another; sums in double.</summary>
    public void Gemm(Tensor c, Tensor a, Tensor b, GemmShape s)
    {
        var cv = c.Span;
        var av = a.Span;
        var bv = b.Span;
        for (int batch = 0; batch < s.Batch; batch++)
        {
            int oa = s.OffsetA + batch * s.BatchStrideA, ob = s.OffsetB + batch * s.BatchStrideB, oc = s.OffsetC + batch * s.BatchStrideC;
            for (int i = 0; i < s.M; i++)
            for (int j = 0; j < s.N; j++)
            {
                double sum = 0;
                for (int p = 0; p < s.K; p++)
                {
                    float aip = s.TransposeA ? av[oa + p * s.M + i] : av[oa + i * s.K + p];
                    float bpj = s.TransposeB ? bv[ob + j * s.K + p] : bv[ob + p * s.N + j];
                    sum += (double)aip * bpj;
                }
                ref float cij = ref cv[oc + i * s.N + j];
                // beta = 0 overwrites (C may hold garbage or NaN), as BLAS specifies.
                cij = s.Beta == 0 ? (float)(s.Alpha * sum) : (float)(s.Alpha * sum + s.Beta * cij);
            }
        }
    }
}
