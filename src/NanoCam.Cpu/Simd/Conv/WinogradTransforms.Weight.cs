using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NanoCam.Cpu.Simd.Conv;

/// <summary>
/// The transforms of the weight gradient by Winograd F(3×3, 2×2). Per tile, dW[r, s] = Σ_{i,j} E[i, j]·D[i + r, j + s]
/// for a 2×2 tile E of dY and the 4×4 input tile D the forward pass reads. That sum is the derivative, with respect to
/// the filter g, of the trilinear form Σ_i e_i·y_i of F(2, 3), y = Aᵀ[(G g) ⊙ (Bᵀ d)]; differentiating gives
///   dW = Gᵀ [(A E Aᵀ) ⊙ (Bᵀ D B)] G
/// with the forward's A, B, G (see <see cref="WinogradTransforms"/>): the input transform is the forward's, dY takes
/// A (4×2: rows [1 0], [1 1], [1 −1], [0 −1]) and the output Gᵀ (3×4: rows [1 ½ ½ 0], [0 ½ −½ 0], [0 ½ ½ 1]). Summed
/// over tiles, the element-wise product becomes 16 matrix products over the tiles, one per position ξ = 4i + j.
/// </summary>
public static unsafe partial class WinogradTransforms
{
    /// <summary>
    /// P_ξ = (A E Aᵀ)_ξ for 16 adjacent 2×2 dY tiles whose entries start at column 2·lane of rows top and bottom (each
    /// readable for 32 floats): p[ξ·pStride + lane].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void OutputGradient(float* p, long pStride, float* top, float* bottom)
    {
        // Row pass (E Aᵀ, over j): e0, e0 + e1, e0 − e1, −e1; then the same over the two rows (A ·, over i).
        GradientRow(top, out var a0, out var a1, out var a2, out var a3);
        GradientRow(bottom, out var b0, out var b1, out var b2, out var b3);
        Vector512.Store(a0, p); Vector512.Store(a1, p + pStride); Vector512.Store(a2, p + 2 * pStride); Vector512.Store(a3, p + 3 * pStride);
        Vector512.Store(a0 + b0, p + 4 * pStride); Vector512.Store(a1 + b1, p + 5 * pStride); Vector512.Store(a2 + b2, p + 6 * pStride); Vector512.Store(a3 + b3, p + 7 * pStride);
        Vector512.Store(a0 - b0, p + 8 * pStride); Vector512.Store(a1 - b1, p + 9 * pStride); Vector512.Store(a2 - b2, p + 10 * pStride); Vector512.Store(a3 - b3, p + 11 * pStride);
        Vector512.Store(-b0, p + 12 * pStride); Vector512.Store(-b1, p + 13 * pStride); Vector512.Store(-b2, p + 14 * pStride); Vector512.Store(-b3, p + 15 * pStride);
    }

    /// <summary>One dY row of 16 tiles: e_j = row[2·lane + j], then (e A ᵀ)_j = e0, e0 + e1, e0 − e1, −e1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GradientRow(float* row, out Vector512<float> t0, out Vector512<float> t1, out Vector512<float> t2, out Vector512<float> t3)
    {
        var lo = Vector512.Load(row);
        var hi = Vector512.Load(row + 16);
        var e0 = Avx512F.PermuteVar16x32x2(lo, Even, hi);
        var e1 = Avx512F.PermuteVar16x32x2(lo, Odd, hi);
        t0 = e0;
        t1 = e0 + e1;
        t2 = e0 - e1;
        t3 = -e1;
    }

    /// <summary>
    /// <see cref="OutputGradient"/> for 8 adjacent tiles (maps of at most 16 columns) from their two dY rows, as loaded
    /// (zero past the map's last column): p[ξ·pStride + lane], lanes 0–7.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void OutputGradientNarrow(float* p, long pStride, Vector512<float> top, Vector512<float> bottom)
    {
        GradientRowNarrow(top, out var a0, out var a1, out var a2, out var a3);
        GradientRowNarrow(bottom, out var b0, out var b1, out var b2, out var b3);
        Vector256.Store(a0, p); Vector256.Store(a1, p + pStride); Vector256.Store(a2, p + 2 * pStride); Vector256.Store(a3, p + 3 * pStride);
        Vector256.Store(a0 + b0, p + 4 * pStride); Vector256.Store(a1 + b1, p + 5 * pStride); Vector256.Store(a2 + b2, p + 6 * pStride); Vector256.Store(a3 + b3, p + 7 * pStride);
        Vector256.Store(a0 - b0, p + 8 * pStride); Vector256.Store(a1 - b1, p + 9 * pStride); Vector256.Store(a2 - b2, p + 10 * pStride); Vector256.Store(a3 - b3, p + 11 * pStride);
        Vector256.Store(-b0, p + 12 * pStride); Vector256.Store(-b1, p + 13 * pStride); Vector256.Store(-b2, p + 14 * pStride); Vector256.Store(-b3, p + 15 * pStride);
    }

    /// <summary>One dY row of 8 tiles: e_j = lo[2·lane + j], then e0, e0 + e1, e0 − e1, −e1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GradientRowNarrow(Vector512<float> lo, out Vector256<float> t0, out Vector256<float> t1, out Vector256<float> t2, out Vector256<float> t3)
    {
        var e0 = Avx512F.PermuteVar16x32(lo, EvenOfOne).GetLower();
        var e1 = Avx512F.PermuteVar16x32(lo, OddOfOne).GetLower();
        t0 = e0;
        t1 = e0 + e1;
        t2 = e0 - e1;
        t3 = -e1;
    }

    /// <summary>dw[0..9] += Gᵀ M G for one (k, c): M_ξ at m[ξ·mStride], dw the 3×3 taps row-major.</summary>
    public static void WeightGradient(float* dw, float* m, long mStride)
    {
        // Column pass (Gᵀ ·, over i) per column j, then the row pass (· G, over j).
        Span<float> t = stackalloc float[12];
        for (int j = 0; j < 4; j++)
        {
            float m0 = m[j * mStride], m1 = m[(4 + j) * mStride], m2 = m[(8 + j) * mStride], m3 = m[(12 + j) * mStride];
            t[j] = m0 + 0.5f * (m1 + m2);
            t[4 + j] = 0.5f * (m1 - m2);
            t[8 + j] = 0.5f * (m1 + m2) + m3;
        }
        for (int r = 0; r < 3; r++)
        {
            float t0 = t[4 * r], t1 = t[4 * r + 1], t2 = t[4 * r + 2], t3 = t[4 * r + 3];
            dw[3 * r] += t0 + 0.5f * (t1 + t2);
            dw[3 * r + 1] += 0.5f * (t1 - t2);
            dw[3 * r + 2] += 0.5f * (t1 + t2) + t3;
        }
    }
}
