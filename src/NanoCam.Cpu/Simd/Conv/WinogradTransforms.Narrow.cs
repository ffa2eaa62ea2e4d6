using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NanoCam.Cpu.Simd.Conv;

/// <summary>
/// The input and output transforms of <see cref="WinogradTransforms"/> on 8 tiles at once, for maps of at most 8 tile
/// columns (a 14×14 map has 7, a 7×7 map 4): the same arithmetic, one tile per lane of a 256-bit vector, so a tile row
/// costs half of a 16-lane group that would be mostly empty. Loads and permutes stay 512-bit (one 16-float row segment
/// holds the inputs of all 8 tiles).
/// </summary>
public static unsafe partial class WinogradTransforms
{
    /// <summary>Tiles per narrow vector.</summary>
    public const int NarrowLanes = 8;

    /// <summary>Lane l of the permute picks element 2l (even) or 2l + 1 (odd) of 16 floats; lanes 8–15 are unused.</summary>
    private static readonly Vector512<int> EvenOfOne = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 0, 0, 0, 0, 0, 0, 0, 0);
    private static readonly Vector512<int> OddOfOne = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 0, 0, 0, 0, 0, 0, 0, 0);
    // Lanes 0–7 of a hold the left column, lanes 8–15 the right one: a0 a8 a1 a9 … interleaves them.
    private static readonly Vector512<int> InterleaveHalves = Vector512.Create(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);

    /// <summary>
    /// V_ξ = (Bᵀ d B)_ξ for 8 adjacent tiles whose 4×4 inputs start at column 2·lane of rows r0..r3 (each readable for
    /// 18 floats): v[ξ·vStride + lane], lanes 0–7.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void InputNarrow(float* v, long vStride, float* r0, float* r1, float* r2, float* r3)
    {
        RowNarrow(r0, out var a0, out var a1, out var a2, out var a3);
        RowNarrow(r1, out var b0, out var b1, out var b2, out var b3);
        RowNarrow(r2, out var c0, out var c1, out var c2, out var c3);
        RowNarrow(r3, out var e0, out var e1, out var e2, out var e3);
        Vector256.Store(a0 - c0, v); Vector256.Store(a1 - c1, v + vStride); Vector256.Store(a2 - c2, v + 2 * vStride); Vector256.Store(a3 - c3, v + 3 * vStride);
        Vector256.Store(b0 + c0, v + 4 * vStride); Vector256.Store(b1 + c1, v + 5 * vStride); Vector256.Store(b2 + c2, v + 6 * vStride); Vector256.Store(b3 + c3, v + 7 * vStride);
        Vector256.Store(c0 - b0, v + 8 * vStride); Vector256.Store(c1 - b1, v + 9 * vStride); Vector256.Store(c2 - b2, v + 10 * vStride); Vector256.Store(c3 - b3, v + 11 * vStride);
        Vector256.Store(b0 - e0, v + 12 * vStride); Vector256.Store(b1 - e1, v + 13 * vStride); Vector256.Store(b2 - e2, v + 14 * vStride); Vector256.Store(b3 - e3, v + 15 * vStride);
    }

    /// <summary>One input row of 8 tiles: d_j = row[2·lane + j], then (d B)_j = d0 − d2, d1 + d2, d2 − d1, d1 − d3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowNarrow(float* row, out Vector256<float> t0, out Vector256<float> t1, out Vector256<float> t2, out Vector256<float> t3)
    {
        var lo = Vector512.Load(row);
        var lo2 = Vector512.Load(row + 2);
        var d0 = Avx512F.PermuteVar16x32(lo, EvenOfOne).GetLower();
        var d1 = Avx512F.PermuteVar16x32(lo, OddOfOne).GetLower();
        var d2 = Avx512F.PermuteVar16x32(lo2, EvenOfOne).GetLower();
        var d3 = Avx512F.PermuteVar16x32(lo2, OddOfOne).GetLower();
        t0 = d0 - d2;
        t1 = d1 + d2;
        t2 = d2 - d1;
        t3 = d1 - d3;
    }

    /// <summary>
    /// Y = Aᵀ M A + bias for 8 adjacent tiles, M_ξ at m[ξ·mStride + lane]: the tiles' two output rows interleaved,
    /// top[2·lane + x] and bottom[2·lane + x] for x = 0, 1 (16 floats each).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void OutputNarrow(float* top, float* bottom, float* m, long mStride, float bias)
    {
        ColumnNarrow(m, mStride, out var s00, out var s10);
        ColumnNarrow(m + mStride, mStride, out var s01, out var s11);
        ColumnNarrow(m + 2 * mStride, mStride, out var s02, out var s12);
        ColumnNarrow(m + 3 * mStride, mStride, out var s03, out var s13);
        var b = Vector256.Create(bias);
        StoreInterleavedNarrow(top, s00 + s01 + s02 + b, s01 - s02 - s03 + b);
        StoreInterleavedNarrow(bottom, s10 + s11 + s12 + b, s11 - s12 - s13 + b);
    }

    /// <summary>Column j of Aᵀ M: s0 = m_0j + m_1j + m_2j and s1 = m_1j − m_2j − m_3j (rows i at m + 4i·mStride).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ColumnNarrow(float* c, long mStride, out Vector256<float> s0, out Vector256<float> s1)
    {
        var m0 = Vector256.Load(c); var m1 = Vector256.Load(c + 4 * mStride); var m2 = Vector256.Load(c + 8 * mStride); var m3 = Vector256.Load(c + 12 * mStride);
        s0 = m0 + m1 + m2;
        s1 = m1 - m2 - m3;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreInterleavedNarrow(float* dst, Vector256<float> left, Vector256<float> right) =>
        Vector512.Store(Avx512F.PermuteVar16x32(Vector512.Create(left, right), InterleaveHalves), dst);
}
