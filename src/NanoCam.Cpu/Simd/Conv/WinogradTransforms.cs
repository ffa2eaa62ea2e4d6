using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NanoCam.Cpu.Simd.Conv;

/// <summary>
/// The three transforms of Winograd's minimal filtering F(2×2, 3×3) (Lavin &amp; Gray, "Fast Algorithms for
/// Convolutional Neural Networks", 2016, eq. 8): a 2×2 output tile Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A from a 4×4 input
/// tile d and a 3×3 filter g, with
///   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],  G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],  Aᵀ = [1 1 1 0; 0 1 −1 −1].
/// Summed over input channels, the element-wise product becomes 16 matrix products, one per position ξ = 4i + j of
/// the 4×4 transformed tile. Input and output transforms run on 16 tiles at once, one tile per vector lane (AVX-512).
/// </summary>
public static unsafe partial class WinogradTransforms
{
    /// <summary>Tiles per vector: one lane each.</summary>
    public const int Lanes = 16;

    // Lane l of the even (odd) gather takes element 2l (2l + 1) of a 32-float pair of vectors (DilatedPhases splits rows with them too).
    internal static readonly Vector512<int> Even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    internal static readonly Vector512<int> Odd = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    // Interleaving two 16-lane vectors a, b into a0 b0 a1 b1 …: the low and the high 16 floats.
    internal static readonly Vector512<int> InterleaveLow = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    internal static readonly Vector512<int> InterleaveHigh = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);

    /// <summary>The transforms need AVX-512F (two-source permutes); elsewhere the convolution stays an implicit GEMM.</summary>
    public static bool IsSupported => Avx512F.IsSupported;

    /// <summary>
    /// U_ξ = (G g Gᵀ)_ξ for one 3×3 filter g (row-major, 9 floats): u[ξ·uStride] for ξ = 4i + j.
    /// </summary>
    public static void Filter(float* u, long uStride, float* g)
    {
        // X = G g (4×3, row by row), then each row of U = X Gᵀ.
        FilterRow(u, uStride, g[0], g[1], g[2]);
        FilterRow(u + 4 * uStride, uStride, 0.5f * (g[0] + g[3] + g[6]), 0.5f * (g[1] + g[4] + g[7]), 0.5f * (g[2] + g[5] + g[8]));
        FilterRow(u + 8 * uStride, uStride, 0.5f * (g[0] - g[3] + g[6]), 0.5f * (g[1] - g[4] + g[7]), 0.5f * (g[2] - g[5] + g[8]));
        FilterRow(u + 12 * uStride, uStride, g[6], g[7], g[8]);
    }

    /// <summary>One row of X Gᵀ: x0, ½(x0 + x1 + x2), ½(x0 − x1 + x2), x2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FilterRow(float* u, long uStride, float x0, float x1, float x2)
    {
        u[0] = x0;
        u[uStride] = 0.5f * (x0 + x1 + x2);
        u[2 * uStride] = 0.5f * (x0 - x1 + x2);
        u[3 * uStride] = x2;
    }

    /// <summary>
    /// V_ξ = (Bᵀ d B)_ξ for 16 horizontally adjacent tiles whose 4×4 inputs start at column 2·lane of rows
    /// r0..r3 (each readable for 34 floats): v[ξ·vStride + lane].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Input(float* v, long vStride, float* r0, float* r1, float* r2, float* r3)
    {
        // Row pass (d B, over j), then column pass (Bᵀ ·, over i).
        Row(r0, out var a0, out var a1, out var a2, out var a3);
        Row(r1, out var b0, out var b1, out var b2, out var b3);
        Row(r2, out var c0, out var c1, out var c2, out var c3);
        Row(r3, out var e0, out var e1, out var e2, out var e3);
        Vector512.Store(a0 - c0, v); Vector512.Store(a1 - c1, v + vStride); Vector512.Store(a2 - c2, v + 2 * vStride); Vector512.Store(a3 - c3, v + 3 * vStride);
        Vector512.Store(b0 + c0, v + 4 * vStride); Vector512.Store(b1 + c1, v + 5 * vStride); Vector512.Store(b2 + c2, v + 6 * vStride); Vector512.Store(b3 + c3, v + 7 * vStride);
        Vector512.Store(c0 - b0, v + 8 * vStride); Vector512.Store(c1 - b1, v + 9 * vStride); Vector512.Store(c2 - b2, v + 10 * vStride); Vector512.Store(c3 - b3, v + 11 * vStride);
        Vector512.Store(b0 - e0, v + 12 * vStride); Vector512.Store(b1 - e1, v + 13 * vStride); Vector512.Store(b2 - e2, v + 14 * vStride); Vector512.Store(b3 - e3, v + 15 * vStride);
    }

    /// <summary>One input row of 16 tiles: d_j = row[2·lane + j], then (d B)_j = d0 − d2, d1 + d2, d2 − d1, d1 − d3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row(float* row, out Vector512<float> t0, out Vector512<float> t1, out Vector512<float> t2, out Vector512<float> t3)
    {
        var lo = Vector512.Load(row);
        var hi = Vector512.Load(row + 16);
        var lo2 = Vector512.Load(row + 2);
        var hi2 = Vector512.Load(row + 18);
        var d0 = Avx512F.PermuteVar16x32x2(lo, Even, hi);
        var d1 = Avx512F.PermuteVar16x32x2(lo, Odd, hi);
        var d2 = Avx512F.PermuteVar16x32x2(lo2, Even, hi2);
        var d3 = Avx512F.PermuteVar16x32x2(lo2, Odd, hi2);
        t0 = d0 - d2;
        t1 = d1 + d2;
        t2 = d2 - d1;
        t3 = d1 - d3;
    }

    /// <summary>
    /// Y = Aᵀ M A + bias for 16 adjacent tiles, M_ξ at m[ξ·mStride + lane]: writes the tiles' two output rows
    /// interleaved, top[2·lane + x] and bottom[2·lane + x] for x = 0, 1 (32 floats each).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Output(float* top, float* bottom, float* m, long mStride, float bias)
    {
        // s_0 = m_0 + m_1 + m_2 and s_1 = m_1 − m_2 − m_3 over rows i, per column j; then the same over columns.
        Vector512<float> s00, s01, s02, s03, s10, s11, s12, s13;
        {
            var m0 = Vector512.Load(m); var m1 = Vector512.Load(m + 4 * mStride); var m2 = Vector512.Load(m + 8 * mStride); var m3 = Vector512.Load(m + 12 * mStride);
            s00 = m0 + m1 + m2; s10 = m1 - m2 - m3;
        }
        {
            float* c = m + mStride;
            var m0 = Vector512.Load(c); var m1 = Vector512.Load(c + 4 * mStride); var m2 = Vector512.Load(c + 8 * mStride); var m3 = Vector512.Load(c + 12 * mStride);
            s01 = m0 + m1 + m2; s11 = m1 - m2 - m3;
        }
        {
            float* c = m + 2 * mStride;
            var m0 = Vector512.Load(c); var m1 = Vector512.Load(c + 4 * mStride); var m2 = Vector512.Load(c + 8 * mStride); var m3 = Vector512.Load(c + 12 * mStride);
            s02 = m0 + m1 + m2; s12 = m1 - m2 - m3;
        }
        {
            float* c = m + 3 * mStride;
            var m0 = Vector512.Load(c); var m1 = Vector512.Load(c + 4 * mStride); var m2 = Vector512.Load(c + 8 * mStride); var m3 = Vector512.Load(c + 12 * mStride);
            s03 = m0 + m1 + m2; s13 = m1 - m2 - m3;
        }
        var b = Vector512.Create(bias);
        StoreInterleaved(top, s00 + s01 + s02 + b, s01 - s02 - s03 + b);
        StoreInterleaved(bottom, s10 + s11 + s12 + b, s11 - s12 - s13 + b);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreInterleaved(float* dst, Vector512<float> left, Vector512<float> right)
    {
        Vector512.Store(Avx512F.PermuteVar16x32x2(left, InterleaveLow, right), dst);
        Vector512.Store(Avx512F.PermuteVar16x32x2(left, InterleaveHigh, right), dst + 16);
    }
}
