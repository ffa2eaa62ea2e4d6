using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NanoCam.Cpu.Simd.Gemm;

/// <summary>
/// The inference GEMM's tile for the columns a whole 8×48 tile does not fit (a 4×4 map's 16 columns, the 16 left of 64,
/// the 25 left of 169, a 1×1 map's single column): 8 rows × one, two or three 16-lane vectors of a stored B read in place,
/// the last vector masked to the columns that exist (no packing, no read past B's end, no write past C's row), and only
/// the first <c>rows</c> rows stored. Each sum is the 8×48 tile's chain of fused multiply-adds (Σ_p a[p·8 + i]·b[p·ldb + j]
/// in p order), so a column's value does not depend on which tile computed it. The epilogue, on the last depth block:
/// bias, then the activation in registers where <see cref="VectorActivation"/> has it.
/// </summary>
public static unsafe class MaskedTile8
{
    /// <summary>Lanes [0, count) set: the mask of the last vector of a tile <paramref name="count"/> columns past its last full vector.</summary>
    public static Vector512<float> Mask(int count) =>
        Vector512.LessThan(Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), Vector512.Create(count)).AsSingle();

    /// <summary>Whether the masked tile runs here (AVX-512 in hardware).</summary>
    public static bool IsSupported => Avx512F.IsSupported;

    /// <summary>
    /// C[i·ldc + j] = act(Σ_p a[p·8 + i]·b[p·ldb + j] (+ C) + rowBias[i]) for i &lt; rows ≤ 8 and j &lt; cols ≤ 48
    /// (rowBias null: none; act applied only if it vectorizes, else left to the caller).
    /// </summary>
    public static void Tile(int kc, float* a, float* b, long ldb, float* c, int ldc, int cols, int rows, bool accumulate, float* rowBias, ConvEpilogue act)
    {
        var mask = Mask(cols - (cols - 1) / 16 * 16);
        if (!VectorActivation.Vectorizes(act.Kind)) act = ConvEpilogue.None;
        if (cols <= 16) Tile16(kc, a, b, ldb, c, ldc, mask, rows, accumulate, rowBias, act);
        else if (cols <= 32) Tile32(kc, a, b, ldb, c, ldc, mask, rows, accumulate, rowBias, act);
        else Tile48(kc, a, b, ldb, c, ldc, mask, rows, accumulate, rowBias, act);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Tile16(int kc, float* a, float* b, long ldb, float* c, int ldc, Vector512<float> mask, int rows, bool accumulate, float* rowBias, ConvEpilogue act)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Avx512F.MaskLoad(b, mask, Vector512<float>.Zero);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[0]), b0, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a[1]), b0, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a[2]), b0, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a[3]), b0, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a[4]), b0, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a[5]), b0, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(a[6]), b0, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(a[7]), b0, c7);
            a += 8;
            b += ldb;
        }
        Last(c, c0, mask, accumulate, rowBias, 0, act);
        if (rows > 1) Last(c + ldc, c1, mask, accumulate, rowBias, 1, act);
        if (rows > 2) Last(c + 2 * ldc, c2, mask, accumulate, rowBias, 2, act);
        if (rows > 3) Last(c + 3 * ldc, c3, mask, accumulate, rowBias, 3, act);
        if (rows > 4) Last(c + 4 * ldc, c4, mask, accumulate, rowBias, 4, act);
        if (rows > 5) Last(c + 5 * ldc, c5, mask, accumulate, rowBias, 5, act);
        if (rows > 6) Last(c + 6 * ldc, c6, mask, accumulate, rowBias, 6, act);
        if (rows > 7) Last(c + 7 * ldc, c7, mask, accumulate, rowBias, 7, act);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Tile32(int kc, float* a, float* b, long ldb, float* c, int ldc, Vector512<float> mask, int rows, bool accumulate, float* rowBias, ConvEpilogue act)
    {
        Vector512<float> c0_0 = default, c0_1 = default, c1_0 = default, c1_1 = default, c2_0 = default, c2_1 = default, c3_0 = default, c3_1 = default;
        Vector512<float> c4_0 = default, c4_1 = default, c5_0 = default, c5_1 = default, c6_0 = default, c6_1 = default, c7_0 = default, c7_1 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Avx512F.MaskLoad(b + 16, mask, Vector512<float>.Zero);
            var a0 = Vector512.Create(a[0]); c0_0 = Vector512.FusedMultiplyAdd(a0, b0, c0_0); c0_1 = Vector512.FusedMultiplyAdd(a0, b1, c0_1);
            var a1 = Vector512.Create(a[1]); c1_0 = Vector512.FusedMultiplyAdd(a1, b0, c1_0); c1_1 = Vector512.FusedMultiplyAdd(a1, b1, c1_1);
            var a2 = Vector512.Create(a[2]); c2_0 = Vector512.FusedMultiplyAdd(a2, b0, c2_0); c2_1 = Vector512.FusedMultiplyAdd(a2, b1, c2_1);
            var a3 = Vector512.Create(a[3]); c3_0 = Vector512.FusedMultiplyAdd(a3, b0, c3_0); c3_1 = Vector512.FusedMultiplyAdd(a3, b1, c3_1);
            var a4 = Vector512.Create(a[4]); c4_0 = Vector512.FusedMultiplyAdd(a4, b0, c4_0); c4_1 = Vector512.FusedMultiplyAdd(a4, b1, c4_1);
            var a5 = Vector512.Create(a[5]); c5_0 = Vector512.FusedMultiplyAdd(a5, b0, c5_0); c5_1 = Vector512.FusedMultiplyAdd(a5, b1, c5_1);
            var a6 = Vector512.Create(a[6]); c6_0 = Vector512.FusedMultiplyAdd(a6, b0, c6_0); c6_1 = Vector512.FusedMultiplyAdd(a6, b1, c6_1);
            var a7 = Vector512.Create(a[7]); c7_0 = Vector512.FusedMultiplyAdd(a7, b0, c7_0); c7_1 = Vector512.FusedMultiplyAdd(a7, b1, c7_1);
            a += 8;
            b += ldb;
        }
        Full(c, c0_0, accumulate, rowBias, 0, act); Last(c + 16, c0_1, mask, accumulate, rowBias, 0, act);
        if (rows > 1) { Full(c + ldc, c1_0, accumulate, rowBias, 1, act); Last(c + ldc + 16, c1_1, mask, accumulate, rowBias, 1, act); }
        if (rows > 2) { Full(c + 2 * ldc, c2_0, accumulate, rowBias, 2, act); Last(c + 2 * ldc + 16, c2_1, mask, accumulate, rowBias, 2, act); }
        if (rows > 3) { Full(c + 3 * ldc, c3_0, accumulate, rowBias, 3, act); Last(c + 3 * ldc + 16, c3_1, mask, accumulate, rowBias, 3, act); }
        if (rows > 4) { Full(c + 4 * ldc, c4_0, accumulate, rowBias, 4, act); Last(c + 4 * ldc + 16, c4_1, mask, accumulate, rowBias, 4, act); }
        if (rows > 5) { Full(c + 5 * ldc, c5_0, accumulate, rowBias, 5, act); Last(c + 5 * ldc + 16, c5_1, mask, accumulate, rowBias, 5, act); }
        if (rows > 6) { Full(c + 6 * ldc, c6_0, accumulate, rowBias, 6, act); Last(c + 6 * ldc + 16, c6_1, mask, accumulate, rowBias, 6, act); }
        if (rows > 7) { Full(c + 7 * ldc, c7_0, accumulate, rowBias, 7, act); Last(c + 7 * ldc + 16, c7_1, mask, accumulate, rowBias, 7, act); }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Tile48(int kc, float* a, float* b, long ldb, float* c, int ldc, Vector512<float> mask, int rows, bool accumulate, float* rowBias, ConvEpilogue act)
    {
        Vector512<float> c0_0 = default, c0_1 = default, c0_2 = default, c1_0 = default, c1_1 = default, c1_2 = default;
        Vector512<float> c2_0 = default, c2_1 = default, c2_2 = default, c3_0 = default, c3_1 = default, c3_2 = default;
        Vector512<float> c4_0 = default, c4_1 = default, c4_2 = default, c5_0 = default, c5_1 = default, c5_2 = default;
        Vector512<float> c6_0 = default, c6_1 = default, c6_2 = default, c7_0 = default, c7_1 = default, c7_2 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var b2 = Avx512F.MaskLoad(b + 32, mask, Vector512<float>.Zero);
            var a0 = Vector512.Create(a[0]); c0_0 = Vector512.FusedMultiplyAdd(a0, b0, c0_0); c0_1 = Vector512.FusedMultiplyAdd(a0, b1, c0_1); c0_2 = Vector512.FusedMultiplyAdd(a0, b2, c0_2);
            var a1 = Vector512.Create(a[1]); c1_0 = Vector512.FusedMultiplyAdd(a1, b0, c1_0); c1_1 = Vector512.FusedMultiplyAdd(a1, b1, c1_1); c1_2 = Vector512.FusedMultiplyAdd(a1, b2, c1_2);
            var a2 = Vector512.Create(a[2]); c2_0 = Vector512.FusedMultiplyAdd(a2, b0, c2_0); c2_1 = Vector512.FusedMultiplyAdd(a2, b1, c2_1); c2_2 = Vector512.FusedMultiplyAdd(a2, b2, c2_2);
            var a3 = Vector512.Create(a[3]); c3_0 = Vector512.FusedMultiplyAdd(a3, b0, c3_0); c3_1 = Vector512.FusedMultiplyAdd(a3, b1, c3_1); c3_2 = Vector512.FusedMultiplyAdd(a3, b2, c3_2);
            var a4 = Vector512.Create(a[4]); c4_0 = Vector512.FusedMultiplyAdd(a4, b0, c4_0); c4_1 = Vector512.FusedMultiplyAdd(a4, b1, c4_1); c4_2 = Vector512.FusedMultiplyAdd(a4, b2, c4_2);
            var a5 = Vector512.Create(a[5]); c5_0 = Vector512.FusedMultiplyAdd(a5, b0, c5_0); c5_1 = Vector512.FusedMultiplyAdd(a5, b1, c5_1); c5_2 = Vector512.FusedMultiplyAdd(a5, b2, c5_2);
            var a6 = Vector512.Create(a[6]); c6_0 = Vector512.FusedMultiplyAdd(a6, b0, c6_0); c6_1 = Vector512.FusedMultiplyAdd(a6, b1, c6_1); c6_2 = Vector512.FusedMultiplyAdd(a6, b2, c6_2);
            var a7 = Vector512.Create(a[7]); c7_0 = Vector512.FusedMultiplyAdd(a7, b0, c7_0); c7_1 = Vector512.FusedMultiplyAdd(a7, b1, c7_1); c7_2 = Vector512.FusedMultiplyAdd(a7, b2, c7_2);
            a += 8;
            b += ldb;
        }
        Row3(c, c0_0, c0_1, c0_2, mask, accumulate, rowBias, 0, act);
        if (rows > 1) Row3(c + ldc, c1_0, c1_1, c1_2, mask, accumulate, rowBias, 1, act);
        if (rows > 2) Row3(c + 2 * ldc, c2_0, c2_1, c2_2, mask, accumulate, rowBias, 2, act);
        if (rows > 3) Row3(c + 3 * ldc, c3_0, c3_1, c3_2, mask, accumulate, rowBias, 3, act);
        if (rows > 4) Row3(c + 4 * ldc, c4_0, c4_1, c4_2, mask, accumulate, rowBias, 4, act);
        if (rows > 5) Row3(c + 5 * ldc, c5_0, c5_1, c5_2, mask, accumulate, rowBias, 5, act);
        if (rows > 6) Row3(c + 6 * ldc, c6_0, c6_1, c6_2, mask, accumulate, rowBias, 6, act);
        if (rows > 7) Row3(c + 7 * ldc, c7_0, c7_1, c7_2, mask, accumulate, rowBias, 7, act);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row3(float* c, Vector512<float> t0, Vector512<float> t1, Vector512<float> t2, Vector512<float> mask, bool accumulate, float* rowBias, int row, in ConvEpilogue act)
    {
        Full(c, t0, accumulate, rowBias, row, act);
        Full(c + 16, t1, accumulate, rowBias, row, act);
        Last(c + 32, t2, mask, accumulate, rowBias, row, act);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Full(float* c, Vector512<float> t, bool accumulate, float* rowBias, int row, in ConvEpilogue act)
    {
        if (accumulate) t += Vector512.Load(c);
        if (rowBias != null) t += Vector512.Create(rowBias[row]);
        VectorActivation.Apply(act, t).Store(c);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Last(float* c, Vector512<float> t, Vector512<float> mask, bool accumulate, float* rowBias, int row, in ConvEpilogue act)
    {
        if (accumulate) t += Avx512F.MaskLoad(c, mask, Vector512<float>.Zero);
        if (rowBias != null) t += Vector512.Create(rowBias[row]);
        Avx512F.MaskStore(c, mask, VectorActivation.Apply(act, t));
    }
}
