using System.Runtime.Intrinsics;

namespace NanoCam.Cpu.Simd;

/// <summary>
/// All the dot products between a few long rows and a handful of others, C[k, q] += Σ_j A[k, j]·B[q, j]: the weight
/// gradient of a convolution whose patch has few rows (a first layer: 1·3·3), where a GEMM tile would be mostly padding.
/// Four A rows share each load of a B row (5 loads per 4 FMAs instead of 2 per 1), sixteen lanes at a time.
/// </summary>
public static unsafe class RowDots
{
    /// <summary>c[k·rowsB + q] += Σ_{j &lt; length} a[k·length + j] · b[q·length + j] for k &lt; rowsA, q &lt; rowsB.</summary>
    public static void Accumulate(float* c, float* a, int rowsA, float* b, int rowsB, int length)
    {
        int k = 0;
        for (; k + 4 <= rowsA; k += 4)
        for (int q = 0; q < rowsB; q++)
            Four(c + k * rowsB + q, rowsB, a + (long)k * length, b + (long)q * length, length);
        for (; k < rowsA; k++)
        for (int q = 0; q < rowsB; q++)
            c[k * rowsB + q] += One(a + (long)k * length, b + (long)q * length, length);
    }

    /// <summary>c[i·stride] += a_i · b for the four rows a_i = a + i·length.</summary>
    private static void Four(float* c, int stride, float* a, float* b, int length)
    {
        float* a1 = a + length, a2 = a1 + length, a3 = a2 + length;
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
