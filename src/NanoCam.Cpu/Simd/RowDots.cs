using System.Runtime.Intrinsics;

namespace NanoCam.Cpu.Simd;

/// <summary>
/// All the dot products between a few long rows and a handful of others, C[k, q] += Σ_j A[k, j]·B[q, j]: the weight
/// gradient of a convolution whose patch has few rows (a first layer: 1·3·3), where a GEMM tile would be mostly padding.
/// Four A rows and three B rows at a time: 7 loads per 12 FMAs (instead of 2 per 1), and twelve independent sums keep
/// both FMA pipes busy (four would leave them waiting on the FMA latency); sixteen lanes at a time. Each C entry sums
/// its products in the same order whichever block computes it.
/// </summary>
public static unsafe class RowDots
{
    /// <summary>c[k·rowsB + q] += Σ_{j &lt; length} a[k·length + j] · b[q·length + j] for k &lt; rowsA, q &lt; rowsB.</summary>
    public static void Accumulate(float* c, float* a, int rowsA, float* b, int rowsB, int length) =>
        Accumulate(c, a, rowsA, b, rowsB, length, length);

    /// <summary>The same for rows rowStride floats apart: c[k·rowsB + q] += Σ_{j &lt; length} a[k·rowStride + j] · b[q·rowStride + j].</summary>
    public static void Accumulate(float* c, float* a, int rowsA, float* b, int rowsB, int length, long rowStride)
    {
        int k = 0;
        for (; k + 4 <= rowsA; k += 4)
        {
            int q = 0;
            for (; q + 3 <= rowsB; q += 3)
                Twelve(c + k * rowsB + q, rowsB, a + k * rowStride, b + q * rowStride, length, rowStride);
            for (; q < rowsB; q++)
                Four(c + k * rowsB + q, rowsB, a + k * rowStride, b + q * rowStride, length, rowStride);
        }
        for (; k < rowsA; k++)
        for (int q = 0; q < rowsB; q++)
            c[k * rowsB + q] += One(a + k * rowStride, b + q * rowStride, length);
    }

    /// <summary>c[i·stride + p] += a_i · b_p for the four rows a_i = a + i·rowStride and the three rows b_p = b + p·rowStride.</summary>
    private static void Twelve(float* c, int stride, float* a, float* b, int length, long rowStride)
    {
        float* a1 = a + rowStride, a2 = a1 + rowStride, a3 = a2 + rowStride, b1 = b + rowStride, b2 = b1 + rowStride;
        Vector512<float> s00 = default, s10 = default, s20 = default, s30 = default;
        Vector512<float> s01 = default, s11 = default, s21 = default, s31 = default;
        Vector512<float> s02 = default, s12 = default, s22 = default, s32 = default;
        int j = 0;
        for (; j + 16 <= length; j += 16)
        {
            var va0 = Vector512.Load(a + j);
            var va1 = Vector512.Load(a1 + j);
            var va2 = Vector512.Load(a2 + j);
            var va3 = Vector512.Load(a3 + j);
            var vb = Vector512.Load(b + j);
            s00 = Vector512.FusedMultiplyAdd(va0, vb, s00);
            s10 = Vector512.FusedMultiplyAdd(va1, vb, s10);
            s20 = Vector512.FusedMultiplyAdd(va2, vb, s20);
            s30 = Vector512.FusedMultiplyAdd(va3, vb, s30);
            vb = Vector512.Load(b1 + j);
            s01 = Vector512.FusedMultiplyAdd(va0, vb, s01);
            s11 = Vector512.FusedMultiplyAdd(va1, vb, s11);
            s21 = Vector512.FusedMultiplyAdd(va2, vb, s21);
            s31 = Vector512.FusedMultiplyAdd(va3, vb, s31);
            vb = Vector512.Load(b2 + j);
            s02 = Vector512.FusedMultiplyAdd(va0, vb, s02);
            s12 = Vector512.FusedMultiplyAdd(va1, vb, s12);
            s22 = Vector512.FusedMultiplyAdd(va2, vb, s22);
            s32 = Vector512.FusedMultiplyAdd(va3, vb, s32);
        }
        Finish(c, stride, a, b, j, length, rowStride, s00, s10, s20, s30);
        Finish(c + 1, stride, a, b1, j, length, rowStride, s01, s11, s21, s31);
        Finish(c + 2, stride, a, b2, j, length, rowStride, s02, s12, s22, s32);
    }

    /// <summary>c[i·stride] += the lane sums of s_i plus the scalar tail a_i[j..length) · b[j..length).</summary>
    private static void Finish(float* c, int stride, float* a, float* b, int j, int length, long rowStride,
        Vector512<float> s0, Vector512<float> s1, Vector512<float> s2, Vector512<float> s3)
    {
        float* a1 = a + rowStride, a2 = a1 + rowStride, a3 = a2 + rowStride;
        float t0 = Vector512.Sum(s0), t1 = Vector512.Sum(s1), t2 = Vector512.Sum(s2), t3 = Vector512.Sum(s3);
        for (; j < length; j++)
        {
            t0 += a[j] * b[j];
            t1 += a1[j] * b[j];
            t2 += a2[j] * b[j];
            t3 += a3[j] * b[j];
        }
        c[0] += t0;
        c[stride] += t1;
        c[2 * stride] += t2;
        c[3 * stride] += t3;
    }

    /// <summary>c[i·stride] += a_i · b for the four rows a_i = a + i·rowStride.</summary>
    private static void Four(float* c, int stride, float* a, float* b, int length, long rowStride)
    {
        float* a1 = a + rowStride, a2 = a1 + rowStride, a3 = a2 + rowStride;
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
        int j = 0;
        for (; j + 16 <= length; j += 16)
        {
            var vb = Vector512.Load(b + j);
            s0 = Vector512.FusedMultiplyAdd(Vector512.Load(a + j), vb, s0);
            s1 = Vector512.FusedMultiplyAdd(Vector512.Load(a1 + j), vb, s1);
            s2 = Vector512.FusedMultiplyAdd(Vector512.Load(a2 + j), vb, s2);
            s3 = Vector512.FusedMultiplyAdd(Vector512.Load(a3 + j), vb, s3);
        }
        Finish(c, stride, a, b, j, length, rowStride, s0, s1, s2, s3);
    }

    private static float One(float* a, float* b, int length)
    {
        Vector512<float> s = default;
        int j = 0;
        for (; j + 16 <= length; j += 16) s = Vector512.FusedMultiplyAdd(Vector512.Load(a + j), Vector512.Load(b + j), s);
        float t = Vector512.Sum(s);
        for (; j < length; j++) t += a[j] * b[j];
        return t;
    }
}
