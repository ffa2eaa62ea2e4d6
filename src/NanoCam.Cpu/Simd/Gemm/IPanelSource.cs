namespace NanoCam.Cpu.Simd.Gemm;

/// <summary>
/// The right-hand operand of a packed GEMM, able to pack itself: one Nr-column panel of op(B) at a time, so B can be
/// a stored matrix or a matrix that exists only implicitly (the im2col patch matrix of a convolution).
/// </summary>
public unsafe interface IPanelSource
{
    /// <summary>dst[p·nr + j] = op(B)[pc + p, col + j] for p &lt; kc, j &lt; valid; 0 for valid ≤ j &lt; nr.</summary>
    void Pack(float* dst, int pc, int kc, int col, int valid, int nr);
}

/// <summary>A stored row-major matrix B (or Bᵀ when transposed), ldb elements per stored row.</summary>
public readonly unsafe struct MatrixPanels(float* b, int ldb, bool transposed) : IPanelSource
{
    public void Pack(float* dst, int pc, int kc, int col, int valid, int nr)
    {
        if (!transposed)
        {
            for (int p = 0; p < kc; p++)
            {
                float* d = dst + p * nr;
                PanelCopy.Copy(d, b + (long)(pc + p) * ldb + col, valid);
                PanelCopy.Zero(d + valid, nr - valid);
            }
            return;
        }
        // op(B)[p, j] = B[j, p]: eight stored rows at a time through an 8×8 transpose, the rest scattered down one
        // panel column each.
        int full = valid / 8 * 8;
        for (int j = 0; j < full; j += 8) PanelTranspose.Rows8(dst + j, nr, b + (long)(col + j) * ldb + pc, ldb, kc);
        for (int j = full; j < valid; j++)
        {
            float* src = b + (long)(col + j) * ldb + pc;
            for (int p = 0; p < kc; p++) dst[p * nr + j] = src[p];
        }
        for (int j = valid; j < nr; j++)
            for (int p = 0; p < kc; p++) dst[p * nr + j] = 0;
    }
}
