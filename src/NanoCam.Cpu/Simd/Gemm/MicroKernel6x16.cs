using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NanoCam.Cpu.Simd.Gemm;

/// <summary>AVX2 + FMA micro-kernel: 6×16 tile in twelve 256-bit accumulators (6 rows × 2 vectors), 2 loads + 6 broadcasts per step.</summary>
public readonly unsafe struct MicroKernel6x16 : IMicroKernel
{
    public static int Mr => 6;
    public static int Nr => 16;

    // Kept free of stack buffers: the JIT then holds every accumulator in a register across the loop.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void Tile(int kc, float* a, float* b, float* c, int ldc, float alpha, bool accumulate)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var a0 = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(a0, b0, c00); c01 = Vector256.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(a1, b0, c10); c11 = Vector256.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(a2, b0, c20); c21 = Vector256.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(a3, b0, c30); c31 = Vector256.FusedMultiplyAdd(a3, b1, c31);
            var a4 = Vector256.Create(a[4]);
            c40 = Vector256.FusedMultiplyAdd(a4, b0, c40); c41 = Vector256.FusedMultiplyAdd(a4, b1, c41);
            var a5 = Vector256.Create(a[5]);
            c50 = Vector256.FusedMultiplyAdd(a5, b0, c50); c51 = Vector256.FusedMultiplyAdd(a5, b1, c51);
            a += 6;
            b += 16;
        }
        var va = Vector256.Create(alpha);
        Store(c, va, c00, c01, accumulate);
        Store(c + ldc, va, c10, c11, accumulate);
        Store(c + 2 * ldc, va, c20, c21, accumulate);
        Store(c + 3 * ldc, va, c30, c31, accumulate);
        Store(c + 4 * ldc, va, c40, c41, accumulate);
        Store(c + 5 * ldc, va, c50, c51, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector256<float> alpha, Vector256<float> lo, Vector256<float> hi, bool accumulate)
    {
        if (accumulate)
        {
            Vector256.FusedMultiplyAdd(alpha, lo, Vector256.Load(c)).Store(c);
            Vector256.FusedMultiplyAdd(alpha, hi, Vector256.Load(c + 8)).Store(c + 8);
        }
        else
        {
            (alpha * lo).Store(c);
            (alpha * hi).Store(c + 8);
        }
    }

    /// <summary>Two vectors per row are all there is: the full tile.</summary>
    public static void EdgeTile(int kc, float* a, float* b, float* tile, int cols) => Tile(kc, a, b, tile, Nr, 1f, false);
}
