using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NanoCam.Cpu.Simd.Gemm;

/// <summary>Short copies and clears for packing (runs of a few to a few dozen floats, where a memmove call costs more than the copy).</summary>
public static unsafe class PanelCopy
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(float* dst, float* src, int length)
    {
        int i = 0;
        for (; i + 16 <= length; i += 16) Vector512.Store(Vector512.Load(src + i), dst + i);
        if (i + 8 <= length)
        {
            Vector256.Store(Vector256.Load(src + i), dst + i);
            i += 8;
        }
        for (; i < length; i++) dst[i] = src[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Zero(float* dst, int length)
    {
        int i = 0;
        for (; i + 16 <= length; i += 16) Vector512<float>.Zero.Store(dst + i);
        for (; i < length; i++) dst[i] = 0;
    }
}
