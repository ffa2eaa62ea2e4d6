using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NanoCam.Cpu.Simd.Gemm;

/// <summary>Short copies and clears for packing (runs of a few to a few dozen floats, where a memmove call costs more than the copy).</summary>
public static unsafe class PanelCopy
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(float* dst, float* src, int length)
    {
        if (length >= 16)
        {
            // Whole vectors, then one more ending exactly at length (overlapping the last: no scalar tail, and
            // nothing read or written outside [0, length)).
            int i = 0;
            for (; i + 16 <= length; i += 16) Vector512.Store(Vector512.Load(src + i), dst + i);
            if (i < length) Vector512.Store(Vector512.Load(src + length - 16), dst + length - 16);
            return;
        }
        if (length >= 8)
        {
            Vector256.Store(Vector256.Load(src), dst);
            Vector256.Store(Vector256.Load(src + length - 8), dst + length - 8);
            return;
        }
        for (int i = 0; i < length; i++) dst[i] = src[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Zero(float* dst, int length)
    {
        int i = 0;
        for (; i + 16 <= length; i += 16) Vector512<float>.Zero.Store(dst + i);
        for (; i < length; i++) dst[i] = 0;
    }
}
