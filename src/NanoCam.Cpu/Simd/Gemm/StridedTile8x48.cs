using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NanoCam.Cpu.Simd.Gemm;

/// <summary>
/// The 8×48 AVX-512 tile with B's rows ldb floats apart: 48 for <see cref="MicroKernel8x48"/>'s packed panels, or a
/// stored matrix's row length when the inference GEMM reads B in place (a 1×1 convolution's input planes, whose
/// 48-float runs need no repacking). One body for both, so their sums are the same chain of fused multiply-adds.
/// </summary>
public static unsafe class StridedTile8x48
{
    /// <summary>
    /// C[i·ldc + j] = act(alpha·Σ_p a[p·8 + i]·b[p·ldb + j] (+ C when accumulating) + rowBias[i]), i &lt; 8, j &lt; 48:
    /// the inference GEMM's epilogue applied in registers on its last depth block (rowBias null: no bias; act one that
    /// <see cref="VectorActivation.Vectorizes"/>, or the identity).
    /// </summary>
    // Kept free of stack buffers: the JIT then holds every accumulator in a register across the loop.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void Tile(int kc, float* a, float* b, long ldb, float* c, int ldc, float alpha, bool accumulate, float* rowBias = null, ConvEpilogue act = default)
    {
        Vector512<float> c0_0 = default, c0_1 = default, c0_2 = default;
        Vector512<float> c1_0 = default, c1_1 = default, c1_2 = default;
        Vector512<float> c2_0 = default, c2_1 = default, c2_2 = default;
        Vector512<float> c3_0 = default, c3_1 = default, c3_2 = default;
        Vector512<float> c4_0 = default, c4_1 = default, c4_2 = default;
        Vector512<float> c5_0 = default, c5_1 = default, c5_2 = default;
        Vector512<float> c6_0 = default, c6_1 = default, c6_2 = default;
        Vector512<float> c7_0 = default, c7_1 = default, c7_2 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b + 0);
            var b1 = Vector512.Load(b + 16);
            var b2 = Vector512.Load(b + 32);
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
        var va = Vector512.Create(alpha);
        Store(c + 0 * ldc, va, c0_0, c0_1, c0_2, accumulate, rowBias == null ? null : rowBias + 0, act);
        Store(c + 1 * ldc, va, c1_0, c1_1, c1_2, accumulate, rowBias == null ? null : rowBias + 1, act);
        Store(c + 2 * ldc, va, c2_0, c2_1, c2_2, accumulate, rowBias == null ? null : rowBias + 2, act);
        Store(c + 3 * ldc, va, c3_0, c3_1, c3_2, accumulate, rowBias == null ? null : rowBias + 3, act);
        Store(c + 4 * ldc, va, c4_0, c4_1, c4_2, accumulate, rowBias == null ? null : rowBias + 4, act);
        Store(c + 5 * ldc, va, c5_0, c5_1, c5_2, accumulate, rowBias == null ? null : rowBias + 5, act);
        Store(c + 6 * ldc, va, c6_0, c6_1, c6_2, accumulate, rowBias == null ? null : rowBias + 6, act);
        Store(c + 7 * ldc, va, c7_0, c7_1, c7_2, accumulate, rowBias == null ? null : rowBias + 7, act);
    }

    /// <summary>C row = act(alpha·tile (+ C when accumulating, in one fused multiply-add) + bias).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector512<float> alpha, Vector512<float> t0, Vector512<float> t1, Vector512<float> t2, bool accumulate, float* bias, in ConvEpilogue act)
    {
        if (accumulate)
        {
            t0 = Vector512.FusedMultiplyAdd(alpha, t0, Vector512.Load(c));
            t1 = Vector512.FusedMultiplyAdd(alpha, t1, Vector512.Load(c + 16));
            t2 = Vector512.FusedMultiplyAdd(alpha, t2, Vector512.Load(c + 32));
        }
        else
        {
            t0 *= alpha;
            t1 *= alpha;
            t2 *= alpha;
        }
        if (bias != null)
        {
            var b = Vector512.Create(*bias);
            (t0, t1, t2) = (t0 + b, t1 + b, t2 + b);
        }
        if (!act.IsIdentity)
        {
            t0 = VectorActivation.Apply(act, t0);
            t1 = VectorActivation.Apply(act, t1);
            t2 = VectorActivation.Apply(act, t2);
        }
        t0.Store(c);
        t1.Store(c + 16);
        t2.Store(c + 32);
    }
}
