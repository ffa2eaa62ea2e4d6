using ILGPU;

namespace NanoCam.Gpu.Kernels;

/// <summary>C = alpha·op(A)·op(B) + beta·C as a kernel argument (GemmShape without its bools).</summary>
internal readonly record struct GemmArgs(int M, int N, int K, int TransposeA, int TransposeB, float Alpha, float Beta,
    int BatchStrideA, int BatchStrideB, int BatchStrideC, int OffsetA, int OffsetB, int OffsetC)
{
    public static GemmArgs From(GemmShape s) => new(s.M, s.N, s.K, s.TransposeA ? 1 : 0, s.TransposeB ? 1 : 0, s.Alpha, s.Beta,
        s.BatchStrideA, s.BatchStrideB, s.BatchStrideC, s.OffsetA, s.OffsetB, s.OffsetC);
}

/// <summary>Matrix multiply kernels over row-major matrices.</summary>
internal static class GemmKernels
{
    /// <summary>
    /// Shared-memory tiled GEMM (see <see cref="TiledProduct"/>): C[i,j] = alpha·Σ_p op(A)[i,p]·op(B)[p,j] + beta·C[i,j];
    /// grid z is the batch. beta = 0 overwrites C (which may hold NaN), as BLAS specifies.
    /// </summary>
    public static void Tiled(ArrayView<float> c, ArrayView<float> a, ArrayView<float> b, GemmArgs s)
    {
        var aTile = SharedMemory.Allocate<float>(TiledProduct.TileElements);
        var bTile = SharedMemory.Allocate<float>(TiledProduct.TileElements);
        int tx = Group.IdxX, ty = Group.IdxY, thread = ty * TiledProduct.Threads + tx, batch = Grid.IdxZ;
        int rowBase = Grid.IdxY * TiledProduct.Block, columnBase = Grid.IdxX * TiledProduct.Block;
        int oa = s.OffsetA + batch * s.BatchStrideA, ob = s.OffsetB + batch * s.BatchStrideB, oc = s.OffsetC + batch * s.BatchStrideC;
        var tile = new MicroTile();
        for (int p0 = 0; p0 < s.K; p0 += TiledProduct.Depth)
        {
            for (int l = 0; l < TiledProduct.LoadsPerThread; l++)
            {
                int e = thread + l * TiledProduct.Threads * TiledProduct.Threads;
                // Consecutive threads read consecutive addresses of the matrix as stored.
                int row = s.TransposeA != 0 ? e % TiledProduct.Block : e / TiledProduct.Depth;
                int p = s.TransposeA != 0 ? e / TiledProduct.Block : e % TiledProduct.Depth;
                int i = rowBase + row, k = p0 + p;
                aTile[p * TiledProduct.Block + row] = i < s.M && k < s.K ? a[oa + (s.TransposeA != 0 ? k * s.M + i : i * s.K + k)] : 0f;
                int column = s.TransposeB != 0 ? e / TiledProduct.Depth : e % TiledProduct.Block;
                int q = s.TransposeB != 0 ? e % TiledProduct.Depth : e / TiledProduct.Block;
                int j = columnBase + column, kb = p0 + q;
                bTile[q * TiledProduct.Block + column] = j < s.N && kb < s.K ? b[ob + (s.TransposeB != 0 ? j * s.K + kb : kb * s.N + j)] : 0f;
            }
            Group.Barrier();
            tile.Accumulate(aTile, bTile, ty, tx);
            Group.Barrier();
        }
        for (int ri = 0; ri < 4; ri++)
        for (int cj = 0; cj < 4; cj++)
        {
            int i = rowBase + ty + 16 * ri, j = columnBase + tx + 16 * cj;
            if (i >= s.M || j >= s.N) continue;
            int at = oc + i * s.N + j;
            float product = s.Alpha * tile.Get(ri, cj);
            c[at] = s.Beta == 0 ? product : product + s.Beta * c[at];
        }
    }

    /// <summary>One thread per element of C, no shared memory: the variant for ILGPU's CPU accelerator (see ConvKernels.ForwardDirect).</summary>
    public static void Direct(Index1D index, ArrayView<float> c, ArrayView<float> a, ArrayView<float> b, GemmArgs s)
    {
        int flat = index, plane = s.M * s.N, batch = flat / plane, at = flat - batch * plane, i = at / s.N, j = at - i * s.N;
        int oa = s.OffsetA + batch * s.BatchStrideA, ob = s.OffsetB + batch * s.BatchStrideB, oc = s.OffsetC + batch * s.BatchStrideC;
        float sum = 0;
        for (int p = 0; p < s.K; p++)
            sum += a[oa + (s.TransposeA != 0 ? p * s.M + i : i * s.K + p)] * b[ob + (s.TransposeB != 0 ? j * s.K + p : p * s.N + j)];
        float product = s.Alpha * sum;
        c[oc + i * s.N + j] = s.Beta == 0 ? product : product + s.Beta * c[oc + i * s.N + j];
    }
}
