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
    /// 65·48 + 16): one or two vectors per row instead of three, so the panel's missing columns cost no arithmetic.
    /// </summary>
    public static void EdgeTile(int kc, float* a, float* b, float* tile, int cols)
    {
        if (cols <= 16) Tile8x16(kc, a, b, tile);
        else if (cols <= 32) Tile8x32(kc, a, b, tile);
        else Tile(kc, a, b, tile, Nr, 1f, false);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Tile8x16(int kc, float* a, float* b, float* tile)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[0]), b0, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a[1]), b0, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a[2]), b0, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a[3]), b0, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a[4]), b0, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a[5]), b0, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(a[6]), b0, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(a[7]), b0, c7);
            a += 8;
            b += 48;
        }
        c0.Store(tile + 0 * Nr); c1.Store(tile + 1 * Nr); c2.Store(tile + 2 * Nr); c3.Store(tile + 3 * Nr);
        c4.Store(tile + 4 * Nr); c5.Store(tile + 5 * Nr); c6.Store(tile + 6 * Nr); c7.Store(tile + 7 * Nr);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Tile8x32(int kc, float* a, float* b, float* tile)
    {
        Vector512<float> c0_0 = default, c0_1 = default, c1_0 = default, c1_1 = default, c2_0 = default, c2_1 = default, c3_0 = default, c3_1 = default;
        Vector512<float> c4_0 = default, c4_1 = default, c5_0 = default, c5_1 = default, c6_0 = default, c6_1 = default, c7_0 = default, c7_1 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b + 0);
            var b1 = Vector512.Load(b + 16);
            var a0 = Vector512.Create(a[0]); c0_0 = Vector512.FusedMultiplyAdd(a0, b0, c0_0); c0_1 = Vector512.FusedMultiplyAdd(a0, b1, c0_1);
            var a1 = Vector512.Create(a[1]); c1_0 = Vector512.FusedMultiplyAdd(a1, b0, c1_0); c1_1 = Vector512.FusedMultiplyAdd(a1, b1, c1_1);
            var a2 = Vector512.Create(a[2]); c2_0 = Vector512.FusedMultiplyAdd(a2, b0, c2_0); c2_1 = Vector512.FusedMultiplyAdd(a2, b1, c2_1);
            var a3 = Vector512.Create(a[3]); c3_0 = Vector512.FusedMultiplyAdd(a3, b0, c3_0); c3_1 = Vector512.FusedMultiplyAdd(a3, b1, c3_1);
            var a4 = Vector512.Create(a[4]); c4_0 = Vector512.FusedMultiplyAdd(a4, b0, c4_0); c4_1 = Vector512.FusedMultiplyAdd(a4, b1, c4_1);
            var a5 = Vector512.Create(a[5]); c5_0 = Vector512.FusedMultiplyAdd(a5, b0, c5_0); c5_1 = Vector512.FusedMultiplyAdd(a5, b1, c5_1);
            var a6 = Vector512.Create(a[6]); c6_0 = Vector512.FusedMultiplyAdd(a6, b0, c6_0); c6_1 = Vector512.FusedMultiplyAdd(a6, b1, c6_1);
            var a7 = Vector512.Create(a[7]); c7_0 = Vector512.FusedMultiplyAdd(a7, b0, c7_0); c7_1 = Vector512.FusedMultiplyAdd(a7, b1, c7_1);
            a += 8;
            b += 48;
        }
        c0_0.Store(tile + 0 * Nr); c0_1.Store(tile + 0 * Nr + 16); c1_0.Store(tile + 1 * Nr); c1_1.Store(tile + 1 * Nr + 16);
        c2_0.Store(tile + 2 * Nr); c2_1.Store(tile + 2 * Nr + 16); c3_0.Store(tile + 3 * Nr); c3_1.Store(tile + 3 * Nr + 16);
        c4_0.Store(tile + 4 * Nr); c4_1.Store(tile + 4 * Nr + 16); c5_0.Store(tile + 5 * Nr); c5_1.Store(tile + 5 * Nr + 16);
        c6_0.Store(tile + 6 * Nr); c6_1.Store(tile + 6 * Nr + 16); c7_0.Store(tile + 7 * Nr); c7_1.Store(tile + 7 * Nr + 16);
    }
}
