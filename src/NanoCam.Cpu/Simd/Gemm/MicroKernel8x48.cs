using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NanoCam.Cpu.Simd.Gemm;

/// <summary>AVX-512 + FMA micro-kernel: 8×48 tile in 24 512-bit accumulators (8 rows × 3 vectors), 3 loads + 8 broadcasts per step.</summary>
public readonly unsafe struct MicroKernel8x48 : IMicroKernel
{
    public static int Mr => 8;
    public static int Nr => 48;

    /// <summary>The packed tile: B's panel rows are Nr floats apart (the loop is <see cref="StridedTile8x48"/>'s).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Tile(int kc, float* a, float* b, float* c, int ldc, float alpha, bool accumulate) =>
        StridedTile8x48.Tile(kc, a, b, Nr, c, ldc, alpha, accumulate);

    /// <summary>
    /// The last column panel of a matrix whose width is not a multiple of 48 (1024 = 21·48 + 16; a 56×56 map's 3136 =
    /// 65·48 + 16): the masked tile's one or two vectors per row instead of three (<see cref="MaskedTile8"/>, the same
    /// chains of fused multiply-adds), so the panel's missing columns cost no arithmetic; the full tile without AVX-512.
    /// </summary>
    public static void EdgeTile(int kc, float* a, float* b, float* tile, int cols)
    {
        if (cols <= 32 && MaskedTile8.IsSupported) MaskedTile8.Tile(kc, a, b, Nr, tile, Nr, cols, Mr, false, null, ConvEpilogue.None);
        else Tile(kc, a, b, tile, Nr, 1f, false);
    }
}
