using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NanoCam.Cpu.Simd.Conv;

/// <summary>
/// The micro-kernel of the direct stem (<see cref="StemConv"/>) and of the Winograd F(4×4) products
/// (<see cref="Winograd4x4"/>): eight output channels' sums over <c>count</c> steps, each step one or two 16-float vectors
/// (x + offsets[t], and that + second) times eight broadcast weights w[8t .. 8t + 7],
///   acc[j] = init[j] + Σ_t w[8t + j]·x_t,
/// channel j's vector stored at dst + j·stride (the second vector's at + secondDst). The sums stay in registers (16 or
/// 8 accumulators) through the loop; AVX-512.
/// </summary>
internal static unsafe class BroadcastFma
{
    /// <summary>Two vectors a step: sixteen accumulators.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void Two(float* x, int* offsets, int count, long second, float* w, float* init, float* dst, long stride, long secondDst)
    {
        Vector512<float> a00 = Vector512.Create(init[0]), a10 = Vector512.Create(init[1]), a20 = Vector512.Create(init[2]), a30 = Vector512.Create(init[3]);
        Vector512<float> a40 = Vector512.Create(init[4]), a50 = Vector512.Create(init[5]), a60 = Vector512.Create(init[6]), a70 = Vector512.Create(init[7]);
        Vector512<float> a01 = a00, a11 = a10, a21 = a20, a31 = a30, a41 = a40, a51 = a50, a61 = a60, a71 = a70;
        for (int t = 0; t < count; t++, w += 8)
        {
            float* p = x + offsets[t];
            var x0 = Vector512.Load(p);
            var x1 = Vector512.Load(p + second);
            var v = Vector512.Create(w[0]);
            a00 = Avx512F.FusedMultiplyAdd(x0, v, a00); a01 = Avx512F.FusedMultiplyAdd(x1, v, a01);
            v = Vector512.Create(w[1]);
            a10 = Avx512F.FusedMultiplyAdd(x0, v, a10); a11 = Avx512F.FusedMultiplyAdd(x1, v, a11);
            v = Vector512.Create(w[2]);
            a20 = Avx512F.FusedMultiplyAdd(x0, v, a20); a21 = Avx512F.FusedMultiplyAdd(x1, v, a21);
            v = Vector512.Create(w[3]);
            a30 = Avx512F.FusedMultiplyAdd(x0, v, a30); a31 = Avx512F.FusedMultiplyAdd(x1, v, a31);
            v = Vector512.Create(w[4]);
            a40 = Avx512F.FusedMultiplyAdd(x0, v, a40); a41 = Avx512F.FusedMultiplyAdd(x1, v, a41);
            v = Vector512.Create(w[5]);
            a50 = Avx512F.FusedMultiplyAdd(x0, v, a50); a51 = Avx512F.FusedMultiplyAdd(x1, v, a51);
            v = Vector512.Create(w[6]);
            a60 = Avx512F.FusedMultiplyAdd(x0, v, a60); a61 = Avx512F.FusedMultiplyAdd(x1, v, a61);
            v = Vector512.Create(w[7]);
            a70 = Avx512F.FusedMultiplyAdd(x0, v, a70); a71 = Avx512F.FusedMultiplyAdd(x1, v, a71);
        }
        a00.Store(dst); a10.Store(dst + stride); a20.Store(dst + 2 * stride); a30.Store(dst + 3 * stride);
        a40.Store(dst + 4 * stride); a50.Store(dst + 5 * stride); a60.Store(dst + 6 * stride); a70.Store(dst + 7 * stride);
        float* d = dst + secondDst;
        a01.Store(d); a11.Store(d + stride); a21.Store(d + 2 * stride); a31.Store(d + 3 * stride);
        a41.Store(d + 4 * stride); a51.Store(d + 5 * stride); a61.Store(d + 6 * stride); a71.Store(d + 7 * stride);
    }

    /// <summary>One vector a step: eight accumulators.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void One(float* x, int* offsets, int count, float* w, float* init, float* dst, long stride)
    {
        Vector512<float> a0 = Vector512.Create(init[0]), a1 = Vector512.Create(init[1]), a2 = Vector512.Create(init[2]), a3 = Vector512.Create(init[3]);
        Vector512<float> a4 = Vector512.Create(init[4]), a5 = Vector512.Create(init[5]), a6 = Vector512.Create(init[6]), a7 = Vector512.Create(init[7]);
        for (int t = 0; t < count; t++, w += 8)
        {
            var x0 = Vector512.Load(x + offsets[t]);
            a0 = Avx512F.FusedMultiplyAdd(x0, Vector512.Create(w[0]), a0);
            a1 = Avx512F.FusedMultiplyAdd(x0, Vector512.Create(w[1]), a1);
            a2 = Avx512F.FusedMultiplyAdd(x0, Vector512.Create(w[2]), a2);
            a3 = Avx512F.FusedMultiplyAdd(x0, Vector512.Create(w[3]), a3);
            a4 = Avx512F.FusedMultiplyAdd(x0, Vector512.Create(w[4]), a4);
            a5 = Avx512F.FusedMultiplyAdd(x0, Vector512.Create(w[5]), a5);
            a6 = Avx512F.FusedMultiplyAdd(x0, Vector512.Create(w[6]), a6);
            a7 = Avx512F.FusedMultiplyAdd(x0, Vector512.Create(w[7]), a7);
        }
        a0.Store(dst); a1.Store(dst + stride); a2.Store(dst + 2 * stride); a3.Store(dst + 3 * stride);
        a4.Store(dst + 4 * stride); a5.Store(dst + 5 * stride); a6.Store(dst + 6 * stride); a7.Store(dst + 7 * stride);
    }
}
