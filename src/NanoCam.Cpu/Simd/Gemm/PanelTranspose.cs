using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NanoCam.Cpu.Simd.Gemm;

/// <summary>
/// Packing across the grain: eight stored rows, contiguous along the GEMM's depth p, become the eight lanes of each
/// packed step: dst[p·dstStride + r] = src[r·srcStride + p] for r &lt; 8, p &lt; depth. 8×8 blocks go through registers
/// (unpack, shuffle, lane swap: the classic AVX transpose); the rest is scalar. <see cref="Square16"/> does the same for a
/// 16×16 block with AVX-512 (channel-blocked layouts of the depthwise kernel).
/// </summary>
public static unsafe class PanelTranspose
{
    public static void Rows8(float* dst, int dstStride, float* src, long srcStride, int depth)
    {
        int p = 0;
        if (Avx.IsSupported)
        {
            for (; p + 8 <= depth; p += 8) Block(dst + p * dstStride, dstStride, src + p, srcStride);
        }
        for (; p < depth; p++)
        for (int r = 0; r < 8; r++)
            dst[p * dstStride + r] = src[r * srcStride + p];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block(float* dst, int dstStride, float* src, long srcStride)
    {
        var r0 = Avx.LoadVector256(src);
        var r1 = Avx.LoadVector256(src + srcStride);
        var r2 = Avx.LoadVector256(src + 2 * srcStride);
        var r3 = Avx.LoadVector256(src + 3 * srcStride);
        var r4 = Avx.LoadVector256(src + 4 * srcStride);
        var r5 = Avx.LoadVector256(src + 5 * srcStride);
        var r6 = Avx.LoadVector256(src + 6 * srcStride);
        var r7 = Avx.LoadVector256(src + 7 * srcStride);
        // Pairs of rows interleaved, then quads, then the 128-bit halves swapped into place.
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + dstStride, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2 * dstStride, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3 * dstStride, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4 * dstStride, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5 * dstStride, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6 * dstStride, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7 * dstStride, Avx.Permute2x128(u3, u7, 0x31));
    }

    /// <summary>
    /// dst[j·dstStride + i] = src[i·srcStride + j] for i, j &lt; 16 (AVX-512; src and dst may be the same block): every
    /// row is read before the first is written. Pairs of rows interleaved, then quads (<see cref="Quad"/>), then the
    /// 128-bit lanes gathered across the four quads (<see cref="Column"/>).
    /// </summary>
    public static void Square16(float* dst, long dstStride, float* src, long srcStride)
    {
        Quad(src, srcStride, out var u0, out var u1, out var u2, out var u3);
        Quad(src + 4 * srcStride, srcStride, out var u4, out var u5, out var u6, out var u7);
        Quad(src + 8 * srcStride, srcStride, out var u8, out var u9, out var u10, out var u11);
        Quad(src + 12 * srcStride, srcStride, out var u12, out var u13, out var u14, out var u15);
        Column(dst, dstStride, u0, u4, u8, u12);
        Column(dst + dstStride, dstStride, u1, u5, u9, u13);
        Column(dst + 2 * dstStride, dstStride, u2, u6, u10, u14);
        Column(dst + 3 * dstStride, dstStride, u3, u7, u11, u15);
    }

    /// <summary>Rows 0–3: u_m's 128-bit lane L holds column 4L + m of the four rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Quad(float* src, long stride, out Vector512<float> u0, out Vector512<float> u1, out Vector512<float> u2, out Vector512<float> u3)
    {
        var (a, b, c, d) = (Vector512.Load(src), Vector512.Load(src + stride), Vector512.Load(src + 2 * stride), Vector512.Load(src + 3 * stride));
        var t0 = Avx512F.UnpackLow(a, b);
        var t1 = Avx512F.UnpackHigh(a, b);
        var t2 = Avx512F.UnpackLow(c, d);
        var t3 = Avx512F.UnpackHigh(c, d);
        u0 = Avx512F.Shuffle(t0, t2, 0x44);
        u1 = Avx512F.Shuffle(t0, t2, 0xEE);
        u2 = Avx512F.Shuffle(t1, t3, 0x44);
        u3 = Avx512F.Shuffle(t1, t3, 0xEE);
    }

    /// <summary>Output rows m, 4 + m, 8 + m, 12 + m (dst points at row m) from the four quads' u_m.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Column(float* dst, long stride, Vector512<float> q0, Vector512<float> q1, Vector512<float> q2, Vector512<float> q3)
    {
        var even01 = Avx512F.Shuffle4x128(q0, q1, 0x88);
        var odd01 = Avx512F.Shuffle4x128(q0, q1, 0xDD);
        var even23 = Avx512F.Shuffle4x128(q2, q3, 0x88);
        var odd23 = Avx512F.Shuffle4x128(q2, q3, 0xDD);
        Avx512F.Shuffle4x128(even01, even23, 0x88).Store(dst);
        Avx512F.Shuffle4x128(odd01, odd23, 0x88).Store(dst + 4 * stride);
        Avx512F.Shuffle4x128(even01, even23, 0xDD).Store(dst + 8 * stride);
        Avx512F.Shuffle4x128(odd01, odd23, 0xDD).Store(dst + 12 * stride);
    }
}
