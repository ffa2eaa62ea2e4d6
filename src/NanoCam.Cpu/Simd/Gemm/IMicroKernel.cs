using System.Runtime.CompilerServices;

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
    /// A full tile: tile = Σ_p a[p·Mr + i] · b[p·Nr + j]; then C[i·ldc + j] = alpha·tile + (accumulate ? C : 0) for
    /// every i &lt; Mr, j &lt; Nr. Edge tiles go through <see cref="MicroTile.Run{TKernel}"/>.
    /// </summary>
    static abstract void Tile(int kc, float* a, float* b, float* c, int ldc, float alpha, bool accumulate);

    /// <summary>
    /// An edge tile with only <paramref name="cols"/> &lt; Nr columns inside C: at least those columns of the full tile's
    /// sums, into <paramref name="tile"/> (Mr×Nr, row stride Nr, alpha 1, not accumulated). Each sum is the same chain of
    /// fused multiply-adds as in <see cref="Tile"/>, so a column's result does not depend on which path computed it.
    /// </summary>
    static abstract void EdgeTile(int kc, float* a, float* b, float* tile, int cols);
}

/// <summary>Runs a micro-kernel on a tile of C that may be cut short by the matrix edge.</summary>
public static unsafe class MicroTile
{
    /// <summary>As <see cref="IMicroKernel.Tile"/>, for the rows × cols corner of the tile that lies inside C.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run<TKernel>(int kc, float* a, float* b, float* c, int ldc, float alpha, bool accumulate, int rows, int cols)
        where TKernel : IMicroKernel
    {
        if (rows == TKernel.Mr && cols == TKernel.Nr) TKernel.Tile(kc, a, b, c, ldc, alpha, accumulate);
        else Edge<TKernel>(kc, a, b, c, ldc, alpha, accumulate, rows, cols);
    }

    /// <summary>
    /// Edge tile: with the 8×48 kernel on AVX-512 hardware and alpha 1, the masked tile (<see cref="MaskedTile8"/>) on the
    /// packed panel; otherwise the full tile into a local buffer, then the valid part (scalar: exact, no over-write).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Edge<TKernel>(int kc, float* a, float* b, float* c, int ldc, float alpha, bool accumulate, int rows, int cols)
        where TKernel : IMicroKernel
    {
        if (typeof(TKernel) == typeof(MicroKernel8x48) && MaskedTile8.IsSupported && alpha == 1f)
        {
            // The same sums straight into C through masked vectors (no buffer, no scalar copy).
            MaskedTile8.Tile(kc, a, b, TKernel.Nr, c, ldc, cols, rows, accumulate, null, ConvEpilogue.None);
            return;
        }
        int nr = TKernel.Nr;
        float* tile = stackalloc float[TKernel.Mr * nr];
        if (cols < nr) TKernel.EdgeTile(kc, a, b, tile, cols);
        else TKernel.Tile(kc, a, b, tile, nr, 1f, false);
        for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++)
            c[i * ldc + j] = alpha * tile[i * nr + j] + (accumulate ? c[i * ldc + j] : 0);
    }
}
