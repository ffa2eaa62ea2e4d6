namespace NanoCam.Cpu.Simd.Gemm;

/// <summary>
/// The register-blocked inner kernel of the GEMM (the BLIS "micro-kernel"): an Mr×Nr tile of C is accumulated in
/// vector registers over kc steps of rank-1 updates, reading A packed as Mr-row panels and B as Nr-column panels.
/// </summary>
public unsafe interface IMicroKernel
{
    static abstract int Mr { get; }
    static abstract int Nr { get; }

    /// <summary>
    /// tile = Σ_p a[p·Mr + i] · b[p·Nr + j]; then C[i·ldc + j] = alpha·tile + (accumulate ? C : 0) for i &lt; rows, j &lt; cols.
    /// </summary>
    static abstract void Run(int kc, float* a, float* b, float* c, int ldc, float alpha, bool accumulate, int rows, int cols);
}
