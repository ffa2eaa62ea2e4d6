using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NanoCam.Cpu.Simd.Pooling;

/// <summary>
/// Values-only max pooling for the most common window, 3×3 at stride 2 without padding (SqueezeNet's, AlexNet's), on
/// AVX-512: sixteen windows per step straight from the three input rows, no row buffer. With u = 2·ox,
///   v[u + i] = fold(x[2oy, u + i], x[2oy + 1, u + i], x[2oy + 2, u + i])          (column maxima, 32 + 2 lanes)
///   y[oy, ox + l] = fold(v[u + 2l], v[u + 2l + 1], v[u + 2l + 2])                 (even, odd, shifted even lanes)
/// A step reads up to 34 floats from u, so it may run past the end of a row into the next rows of the same plane;
/// and with fewer than 16 windows a row's step also writes past it, into the next output row. Both are harmless for
/// every output row but the last, which <see cref="MaxPoolValues"/> computes the general way afterwards.
/// </summary>
public static unsafe class MaxPool3x3Stride2
{
    /// <summary>Whether <see cref="Rows"/> takes this geometry: every window inside the input, rows long enough.</summary>
    public static bool Applies(in Pool2dGeometry g) =>
        Avx512F.IsSupported
        && g is { KernelHeight: 3, KernelWidth: 3, StrideHeight: 2, StrideWidth: 2, DilationHeight: 1, DilationWidth: 1, PadTop: 0, PadLeft: 0 }
        && 2 * g.OutputWidth + 1 <= g.InputWidth && 2 * g.OutputHeight + 1 <= g.InputHeight
        && g.OutputWidth >= 8 && g.InputWidth >= 17 && g.OutputHeight >= 2;

    /// <summary>Output rows [0, OH − 1) of one plane (the last row is left to the general sweep).</summary>
    public static void Rows(float* y, float* x, in Pool2dGeometry g)
    {
        int w = g.InputWidth, ow = g.OutputWidth, oh = g.OutputHeight;
        var evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var odds = evens + Vector512<int>.One;
        for (int oy = 0; oy < oh - 1; oy++)
        {
            float* r0 = x + (long)2 * oy * w, yRow = y + (long)oy * ow;
            for (int ox = 0; ; ox += 16)
            {
                if (ox > ow - 16) ox = Math.Max(0, ow - 16);
                float* p = r0 + 2 * ox;
                var low = Column(p, w);
                var high = Column(p + 16, w);
                var low2 = Column(p + 2, w);
                var high2 = Column(p + 18, w);
                var best = Fold(Avx512F.PermuteVar16x32x2(low, evens, high), Avx512F.PermuteVar16x32x2(low, odds, high));
                Fold(best, Avx512F.PermuteVar16x32x2(low2, evens, high2)).Store(yRow + ox);
                if (ox >= ow - 16) break;
            }
        }
    }

    /// <summary>fold(p[i], p[w + i], p[2w + i]) for 16 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Column(float* p, int w) =>
        Fold(Fold(Vector512.Load(p), Vector512.Load(p + w)), Vector512.Load(p + 2 * w));

    /// <summary>The reference's rule: v replaces best where v is greater, or v is NaN and best is not.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Fold(Vector512<float> best, Vector512<float> v)
    {
        var wins = ~Vector512.LessThanOrEqual(v, best) & Vector512.Equals(best, best);
        return Vector512.ConditionalSelect(wins, v, best);
    }
}
