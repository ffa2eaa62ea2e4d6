using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NanoCam.Cpu.Simd.Conv;

/// <summary>
/// The input and output transforms of <see cref="WinogradTransforms"/> on 8 tiles at once, for maps of at most 8 tile
/// columns (a 14×14 map has 7, a 7×7 map 4): the same arithmetic, one tile per lane of a 256-bit vector, so a tile row
/// costs half of a 16-lane group that would be mostly empty. Maps of at most <see cref="PairColumns"/> tile columns put
/// two tile rows in one vector (lanes [0, tw) the first, [tw, 2tw) the second), which fill the lanes a single row leaves
/// empty. Rows arrive as 512-bit vectors (the caller's loads, zero outside the map), so no padded copy is needed.
/// </summary>
public static unsafe partial class WinogradTransforms
{
    /// <summary>Tiles per narrow vector.</summary>
    public const int NarrowLanes = 8;

    /// <summary>Tile columns up to which two tile rows share a narrow vector.</summary>
    public const int PairColumns = NarrowLanes / 2;

    /// <summary>Lane l of the permute picks element 2l (even) or 2l + 1 (odd) of 16 floats; lanes 8–15 are unused.</summary>
    private static readonly Vector512<int> EvenOfOne = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 0, 0, 0, 0, 0, 0, 0, 0);
    private static readonly Vector512<int> OddOfOne = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 0, 0, 0, 0, 0, 0, 0, 0);
    // Lanes 0–7 of a hold the left column, lanes 8–15 the right one: a0 a8 a1 a9 … interleaves them.
    private static readonly Vector512<int> InterleaveHalves = Vector512.Create(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);

    /// <summary>
    /// The gather of <see cref="RowNarrow"/> for input column j of every tile (j = 0…3) from the 32 floats (a, b): lane l
    /// takes element 2l + j (a row's columns 0–15 in a, 16–31 in b); with two tile rows per vector (tileColumns at most
    /// <see cref="PairColumns"/>) lanes l ≥ tileColumns take the second row, b: element 16 + 2(l − tileColumns) + j.
    /// </summary>
    public static Vector512<int> NarrowTaps(int j, int tileColumns)
    {
        var lane = Vector512<int>.Indices;
        var taps = 2 * lane + Vector512.Create(j);
        if (tileColumns > PairColumns) return taps;
        var second = Vector512.GreaterThanOrEqual(lane, Vector512.Create(tileColumns));
        return taps + (second & Vector512.Create(16 - 2 * tileColumns));
    }

    /// <summary>
    /// The row pass of the input transform for one input row of 8 tiles, d_j = (a, b)[taps_j] (see <see cref="NarrowTaps"/>):
    /// (d B)_j = d0 − d2, d1 + d2, d2 − d1, d1 − d3.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RowNarrow(Vector512<float> a, Vector512<float> b, Vector512<int> taps0, Vector512<int> taps1, Vector512<int> taps2, Vector512<int> taps3,
        out Vector256<float> t0, out Vector256<float> t1, out Vector256<float> t2, out Vector256<float> t3)
    {
        var d0 = Avx512F.PermuteVar16x32x2(a, taps0, b).GetLower();
        var d1 = Avx512F.PermuteVar16x32x2(a, taps1, b).GetLower();
        var d2 = Avx512F.PermuteVar16x32x2(a, taps2, b).GetLower();
        var d3 = Avx512F.PermuteVar16x32x2(a, taps3, b).GetLower();
        t0 = d0 - d2;
        t1 = d1 + d2;
        t2 = d2 - d1;
        t3 = d1 - d3;
    }

    /// <summary>
    /// The column pass of the input transform: V_ξ = (Bᵀ (d B))_ξ from the row passes a, b, c, e of a tile's four input
    /// rows (<see cref="RowNarrow"/>), stored at v[ξ·vStride + lane], lanes 0–7.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ColumnsNarrow(float* v, long vStride,
        Vector256<float> a0, Vector256<float> a1, Vector256<float> a2, Vector256<float> a3,
        Vector256<float> b0, Vector256<float> b1, Vector256<float> b2, Vector256<float> b3,
        Vector256<float> c0, Vector256<float> c1, Vector256<float> c2, Vector256<float> c3,
        Vector256<float> e0, Vector256<float> e1, Vector256<float> e2, Vector256<float> e3)
    {
        Vector256.Store(a0 - c0, v); Vector256.Store(a1 - c1, v + vStride); Vector256.Store(a2 - c2, v + 2 * vStride); Vector256.Store(a3 - c3, v + 3 * vStride);
        Vector256.Store(b0 + c0, v + 4 * vStride); Vector256.Store(b1 + c1, v + 5 * vStride); Vector256.Store(b2 + c2, v + 6 * vStride); Vector256.Store(b3 + c3, v + 7 * vStride);
        Vector256.Store(c0 - b0, v + 8 * vStride); Vector256.Store(c1 - b1, v + 9 * vStride); Vector256.Store(c2 - b2, v + 10 * vStride); Vector256.Store(c3 - b3, v + 11 * vStride);
        Vector256.Store(b0 - e0, v + 12 * vStride); Vector256.Store(b1 - e1, v + 13 * vStride); Vector256.Store(b2 - e2, v + 14 * vStride); Vector256.Store(b3 - e3, v + 15 * vStride);
    }

    /// <summary>
    /// Y = Aᵀ M A + bias for 8 adjacent tiles, M_ξ at m[ξ·mStride + lane]: the tiles' two output rows interleaved,
    /// top[2·lane + x] and bottom[2·lane + x] for x = 0, 1 (16 floats each).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void OutputNarrow(float* m, long mStride, float bias, out Vector512<float> top, out Vector512<float> bottom)
    {
        ColumnNarrow(m, mStride, out var s00, out var s10);
        ColumnNarrow(m + mStride, mStride, out var s01, out var s11);
        ColumnNarrow(m + 2 * mStride, mStride, out var s02, out var s12);
        ColumnNarrow(m + 3 * mStride, mStride, out var s03, out var s13);
        var b = Vector256.Create(bias);
        top = Interleave(s00 + s01 + s02 + b, s01 - s02 - s03 + b);
        bottom = Interleave(s10 + s11 + s12 + b, s11 - s12 - s13 + b);
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
    private static Vector512<float> Interleave(Vector256<float> left, Vector256<float> right) =>
        Avx512F.PermuteVar16x32(Vector512.Create(left, right), InterleaveHalves);
}
