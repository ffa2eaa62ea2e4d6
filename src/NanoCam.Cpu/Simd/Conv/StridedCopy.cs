using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NanoCam.Cpu.Simd.Conv;

/// <summary>The stride-2 gather of a stride-2 convolution's patch rows (the first layer of most ImageNet networks).</summary>
public static unsafe class StridedCopy
{
    /// <summary>
    /// dst[x] = src[2x] for lo ≤ x &lt; hi, reading no further than src[available − 1]: eight at a time as the even
    /// lanes of 16 consecutive floats while those lie inside, the rest one by one.
    /// </summary>
    public static void Evens(float* dst, float* src, int lo, int hi, int available)
    {
        int x = lo;
        if (Avx2.IsSupported)
        {
            var even = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);
            for (; x + 8 <= hi && 2 * x + 16 <= available; x += 8)
            {
                var low = Avx2.PermuteVar8x32(Vector256.Load(src + 2 * x), even);
                var high = Avx2.PermuteVar8x32(Vector256.Load(src + 2 * x + 8), even);
                Vector256.Create(low.GetLower(), high.GetLower()).Store(dst + x);
            }
        }
        for (; x < hi; x++) dst[x] = src[2 * x];
    }
}
