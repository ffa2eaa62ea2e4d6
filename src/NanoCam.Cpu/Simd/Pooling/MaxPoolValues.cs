using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NanoCam.Cpu.Simd.Pooling;

/// <summary>
/// Max pooling without the argmax (a no-grad pass: only backward reads the indices). A window's maximum separates,
/// max over (r, s) = max_s (max_r x[iy_r, ix_s]), so each output row takes two vectorized sweeps:
///   column pass   row[u] = max over the window's input rows iy_r (inside the input) of x[iy_r, u − padLeft]
///   row pass      y[oy, ox] = max over taps s of row[ox·strideW + s·dilationW]
/// The row buffer holds −∞ left and right of the input, so padded taps and ceil-mode windows need no bounds checks,
/// and a window with no tap inside the input gives −∞, as the reference does. Maxima fold with the reference's rule
/// (a NaN wins and stays), so every value equals the reference's (only a zero's sign may differ among tied zeros).
/// </summary>
public static unsafe class MaxPoolValues
{
    /// <summary>Floats read past the last window's last tap by the 8-wide row pass (stride 2: 16 per step).</summary>
    private const int Slack = 32;

    /// <summary>Length of the row buffer one plane sweep needs (see <see cref="Plane"/>).</summary>
    public static int RowLength(in Pool2dGeometry g) =>
        Math.Max(g.PadLeft + g.InputWidth, (g.OutputWidth - 1) * g.StrideWidth + (g.KernelWidth - 1) * g.DilationWidth + 1) + Slack;

    /// <summary>Fills the row buffer's margins with −∞ (once per buffer; <see cref="Plane"/> writes only the inside).</summary>
    public static void PrepareRow(float* row, in Pool2dGeometry g)
    {
        int length = RowLength(g);
        new Span<float>(row, length).Fill(float.NegativeInfinity);
    }

    /// <summary>y[oy, ox] = max over window (oy, ox) of the plane x; <paramref name="row"/> from <see cref="PrepareRow"/>.</summary>
    public static void Plane(float* y, float* x, float* row, in Pool2dGeometry g)
    {
        int w = g.InputWidth, oh = g.OutputHeight, ow = g.OutputWidth;
        float* inside = row + g.PadLeft;
        int oy = 0;
        if (MaxPool3x3Stride2.Applies(g))
        {
            MaxPool3x3Stride2.Rows(y, x, g);
            oy = oh - 1;
        }
        for (; oy < oh; oy++)
        {
            bool any = false;
            for (int r = 0; r < g.KernelHeight; r++)
            {
                int iy = oy * g.StrideHeight - g.PadTop + r * g.DilationHeight;
                if ((uint)iy >= (uint)g.InputHeight) continue;
                if (!any) new ReadOnlySpan<float>(x + (long)iy * w, w).CopyTo(new Span<float>(inside, w));
                else FoldColumns(inside, x + (long)iy * w, w);
                any = true;
            }
            if (!any) new Span<float>(inside, w).Fill(float.NegativeInfinity);
            FoldRow(y + (long)oy * ow, row, ow, g.KernelWidth, g.StrideWidth, g.DilationWidth);
        }
    }

    /// <summary>best[i] = fold(best[i], v[i]) for i &lt; n.</summary>
    private static void FoldColumns(float* best, float* v, int n)
    {
        if (n < 8)
        {
            for (int j = 0; j < n; j++) best[j] = Fold(best[j], v[j]);
            return;
        }
        // Whole vectors, the last one ending at n: folding an element twice changes nothing (max is idempotent).
        for (int i = 0; ; i += 8)
        {
            if (i > n - 8) i = n - 8;
            Fold(Vector256.Load(best + i), Vector256.Load(v + i)).Store(best + i);
            if (i == n - 8) return;
        }
    }

    /// <summary>y[ox] = fold over s of row[ox·stride + s·dilation], for ox &lt; ow.</summary>
    private static void FoldRow(float* y, float* row, int ow, int kernel, int stride, int dilation)
    {
        bool vectors = ow >= 8 && (stride == 1 || stride == 2 && Avx2.IsSupported);
        if (!vectors)
        {
            for (int ox = 0; ox < ow; ox++)
            {
                float* start = row + ox * stride;
                float best = start[0];
                for (int s = 1; s < kernel; s++) best = Fold(best, start[s * dilation]);
                y[ox] = best;
            }
            return;
        }
        // Eight windows at a time, the last eight ending at ow (recomputing a few: the same values).
        var even = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);
        for (int ox = 0; ; ox += 8)
        {
            if (ox > ow - 8) ox = ow - 8;
            float* start = row + stride * ox;
            Vector256<float> best;
            if (stride == 1)
            {
                best = Vector256.Load(start);
                for (int s = 1; s < kernel; s++) best = Fold(best, Vector256.Load(start + s * dilation));
            }
            else
            {
                // Windows start at row[2·ox], row[2·ox + 2], …: tap s of eight windows is the even lanes of 16 floats from s·dilation.
                best = Evens(start, even);
                for (int s = 1; s < kernel; s++) best = Fold(best, Evens(start + s * dilation, even));
            }
            best.Store(y + ox);
            if (ox == ow - 8) return;
        }
    }

    /// <summary>p[0], p[2], …, p[14].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Evens(float* p, Vector256<int> even)
    {
        var low = Avx2.PermuteVar8x32(Vector256.Load(p), even);
        var high = Avx2.PermuteVar8x32(Vector256.Load(p + 8), even);
        return Vector256.Create(low.GetLower(), high.GetLower());
    }

    /// <summary>The reference's rule: v replaces best where v is greater, or v is NaN and best is not.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Fold(Vector256<float> best, Vector256<float> v)
    {
        // ¬(v ≤ best) holds where v is greater or either is NaN; best = best excludes a NaN best, which stays.
        var wins = ~Vector256.LessThanOrEqual(v, best) & Vector256.Equals(best, best);
        return Vector256.ConditionalSelect(wins, v, best);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Fold(float best, float v) => v > best || float.IsNaN(v) && !float.IsNaN(best) ? v : best;
}
