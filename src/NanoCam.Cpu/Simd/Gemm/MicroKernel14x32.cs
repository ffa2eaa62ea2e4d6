using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NanoCam.Cpu.Simd.Gemm;

/// <summary>AVX-512 micro-kernel: 14×32 tile in 28 512-bit accumulators (14 rows × 2 vectors), 2 loads + 14 broadcasts per step.</summary>
public readonly unsafe struct MicroKernel14x32 : IMicroKernel
{
    public static int Mr => 14;
    public static int Nr => 32;

    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, float* b, float* c, int ldc, float alpha, bool accumulate, int rows, int cols)
    {
        Vector512<float> c0_0 = default, c0_1 = default;
        Vector512<float> c1_0 = default, c1_1 = default;
        Vector512<float> c2_0 = default, c2_1 = default;
        Vector512<float> c3_0 = default, c3_1 = default;
        Vector512<float> c4_0 = default, c4_1 = default;
        Vector512<float> c5_0 = default, c5_1 = default;
        Vector512<float> c6_0 = default, c6_1 = default;
        Vector512<float> c7_0 = default, c7_1 = default;
        Vector512<float> c8_0 = default, c8_1 = default;
        Vector512<float> c9_0 = default, c9_1 = default;
        Vector512<float> c10_0 = default, c10_1 = default;
        Vector512<float> c11_0 = default, c11_1 = default;
        Vector512<float> c12_0 = default, c12_1 = default;
        Vector512<float> c13_0 = default, c13_1 = default;
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
            var a8 = Vector512.Create(a[8]); c8_0 = Vector512.FusedMultiplyAdd(a8, b0, c8_0); c8_1 = Vector512.FusedMultiplyAdd(a8, b1, c8_1);
            var a9 = Vector512.Create(a[9]); c9_0 = Vector512.FusedMultiplyAdd(a9, b0, c9_0); c9_1 = Vector512.FusedMultiplyAdd(a9, b1, c9_1);
            var a10 = Vector512.Create(a[10]); c10_0 = Vector512.FusedMultiplyAdd(a10, b0, c10_0); c10_1 = Vector512.FusedMultiplyAdd(a10, b1, c10_1);
            var a11 = Vector512.Create(a[11]); c11_0 = Vector512.FusedMultiplyAdd(a11, b0, c11_0); c11_1 = Vector512.FusedMultiplyAdd(a11, b1, c11_1);
            var a12 = Vector512.Create(a[12]); c12_0 = Vector512.FusedMultiplyAdd(a12, b0, c12_0); c12_1 = Vector512.FusedMultiplyAdd(a12, b1, c12_1);
            var a13 = Vector512.Create(a[13]); c13_0 = Vector512.FusedMultiplyAdd(a13, b0, c13_0); c13_1 = Vector512.FusedMultiplyAdd(a13, b1, c13_1);
            a += 14;
            b += 32;
        }
        if (rows == 14 && cols == 32)
        {
            var va = Vector512.Create(alpha);
            Store(c + 0 * ldc + 0, va, c0_0, accumulate);
            Store(c + 0 * ldc + 16, va, c0_1, accumulate);
            Store(c + 1 * ldc + 0, va, c1_0, accumulate);
            Store(c + 1 * ldc + 16, va, c1_1, accumulate);
            Store(c + 2 * ldc + 0, va, c2_0, accumulate);
            Store(c + 2 * ldc + 16, va, c2_1, accumulate);
            Store(c + 3 * ldc + 0, va, c3_0, accumulate);
            Store(c + 3 * ldc + 16, va, c3_1, accumulate);
            Store(c + 4 * ldc + 0, va, c4_0, accumulate);
            Store(c + 4 * ldc + 16, va, c4_1, accumulate);
            Store(c + 5 * ldc + 0, va, c5_0, accumulate);
            Store(c + 5 * ldc + 16, va, c5_1, accumulate);
            Store(c + 6 * ldc + 0, va, c6_0, accumulate);
            Store(c + 6 * ldc + 16, va, c6_1, accumulate);
            Store(c + 7 * ldc + 0, va, c7_0, accumulate);
            Store(c + 7 * ldc + 16, va, c7_1, accumulate);
            Store(c + 8 * ldc + 0, va, c8_0, accumulate);
            Store(c + 8 * ldc + 16, va, c8_1, accumulate);
            Store(c + 9 * ldc + 0, va, c9_0, accumulate);
            Store(c + 9 * ldc + 16, va, c9_1, accumulate);
            Store(c + 10 * ldc + 0, va, c10_0, accumulate);
            Store(c + 10 * ldc + 16, va, c10_1, accumulate);
            Store(c + 11 * ldc + 0, va, c11_0, accumulate);
            Store(c + 11 * ldc + 16, va, c11_1, accumulate);
            Store(c + 12 * ldc + 0, va, c12_0, accumulate);
            Store(c + 12 * ldc + 16, va, c12_1, accumulate);
            Store(c + 13 * ldc + 0, va, c13_0, accumulate);
            Store(c + 13 * ldc + 16, va, c13_1, accumulate);
            return;
        }
        // Edge tile: spill to a local tile and copy the valid part (scalar tail: exact, no over-write).
        float* tile = stackalloc float[14 * 32];
        c0_0.Store(tile + 0); c0_1.Store(tile + 16);
        c1_0.Store(tile + 32); c1_1.Store(tile + 48);
        c2_0.Store(tile + 64); c2_1.Store(tile + 80);
        c3_0.Store(tile + 96); c3_1.Store(tile + 112);
        c4_0.Store(tile + 128); c4_1.Store(tile + 144);
        c5_0.Store(tile + 160); c5_1.Store(tile + 176);
        c6_0.Store(tile + 192); c6_1.Store(tile + 208);
        c7_0.Store(tile + 224); c7_1.Store(tile + 240);
        c8_0.Store(tile + 256); c8_1.Store(tile + 272);
        c9_0.Store(tile + 288); c9_1.Store(tile + 304);
        c10_0.Store(tile + 320); c10_1.Store(tile + 336);
        c11_0.Store(tile + 352); c11_1.Store(tile + 368);
        c12_0.Store(tile + 384); c12_1.Store(tile + 400);
        c13_0.Store(tile + 416); c13_1.Store(tile + 432);
        for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++)
            c[i * ldc + j] = alpha * tile[i * 32 + j] + (accumulate ? c[i * ldc + j] : 0);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector512<float> alpha, Vector512<float> tile, bool accumulate)
    {
        if (accumulate) Vector512.FusedMultiplyAdd(alpha, tile, Vector512.Load(c)).Store(c);
        else (alpha * tile).Store(c);
    }
}
