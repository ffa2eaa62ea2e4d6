using ILGPU;

namespace NanoCam.Gpu.Kernels;

/// <summary>
/// The tile shape shared by the tiled GEMM and the implicit-GEMM convolution: a group of 16×16 threads computes a
/// 64×64 block of C, each thread a 4×4 micro-tile at rows ty + 16i and columns tx + 16j (strided, so neighbouring
/// threads read neighbouring shared-memory words); the reduction advances 16 at a time through two shared tiles.
/// </summary>
internal static class TiledProduct
{
    public const int Threads = 16;
    public const int Block = 64;
    public const int Depth = 16;
    public const int TileElements = Block * Depth;
    public const int LoadsPerThread = TileElements / (Threads * Threads);

    /// <summary>The launch shape for an M×N result (grid x over columns, y over rows, z over batches or groups).</summary>
    public static KernelConfig Config(int rows, int columns, int depth) =>
        new(new Index3D((columns + Block - 1) / Block, (rows + Block - 1) / Block, depth), new Index3D(Threads, Threads, 1));
}

/// <summary>A thread's 4×4 micro-tile of accumulators (registers, not an array, so the device compiler keeps them in registers).</summary>
internal struct MicroTile
{
    public float C00, C01, C02, C03, C10, C11, C12, C13, C20, C21, C22, C23, C30, C31, C32, C33;

    /// <summary>One step of the reduction: C += a·bᵀ for the thread's four rows of A and four columns of B.</summary>
    public void Add(float a0, float a1, float a2, float a3, float b0, float b1, float b2, float b3)
    {
        C00 += a0 * b0; C01 += a0 * b1; C02 += a0 * b2; C03 += a0 * b3;
        C10 += a1 * b0; C11 += a1 * b1; C12 += a1 * b2; C13 += a1 * b3;
        C20 += a2 * b0; C21 += a2 * b1; C22 += a2 * b2; C23 += a2 * b3;
        C30 += a3 * b0; C31 += a3 * b1; C32 += a3 * b2; C33 += a3 * b3;
    }

    /// <summary>Runs the 16-deep inner product over the shared tiles (aTile[p·64 + row], bTile[p·64 + column]).</summary>
    public void Accumulate(ArrayView<float> aTile, ArrayView<float> bTile, int ty, int tx)
    {
        for (int p = 0; p < TiledProduct.Depth; p++)
        {
            int a = p * TiledProduct.Block + ty, b = p * TiledProduct.Block + tx;
            Add(aTile[a], aTile[a + 16], aTile[a + 32], aTile[a + 48], bTile[b], bTile[b + 16], bTile[b + 32], bTile[b + 48]);
        }
    }

    public readonly float Get(int i, int j)
    {
        int at = i * 4 + j;
        return at switch
        {
            0 => C00, 1 => C01, 2 => C02, 3 => C03,
            4 => C10, 5 => C11, 6 => C12, 7 => C13,
            8 => C20, 9 => C21, 10 => C22, 11 => C23,
            12 => C30, 13 => C31, 14 => C32, _ => C33,
        };
    }
}
