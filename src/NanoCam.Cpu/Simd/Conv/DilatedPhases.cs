using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using NanoCam.Cpu.Threading;

namespace NanoCam.Cpu.Simd.Conv;

/// <summary>
/// A stride-1 convolution dilated by d that keeps the map's size, as d² undilated ones: with x split into its polyphase
/// components x_ab[c, i, j] = x[c, d·i + a, d·j + b] (and y likewise), the taps of output (d·i + a, d·j + b) read
///   x[d·i + a − pt + d·r, d·j + b − pl + d·s] = x_ab[i + r − pt/d, j + s − pl/d]      (when d divides pt and pl),
/// so y_ab = conv(x_ab, w) with pads p/d and no dilation: the same filter on every phase, each phase a map of H/d × W/d.
/// The phases of a block of images run as one batch of d²·images through <see cref="WinogradConv"/>: forward, input
/// gradient (dy split, dx merged back) and weight gradient (the sum over phases is the sum over the batch). d = 2 splits
/// and merges 32 floats a step with two-source permutes; other d cell by cell.
/// </summary>
public sealed unsafe class DilatedPhases
{
    private float[] _inputs = [], _outputs = [];

    /// <summary>Whether this geometry runs as phases: stride 1, equal dilation d &gt; 1 dividing the map and the pads, same size, and Winograd takes the phases.</summary>
    public static bool Applies(in Conv2dGeometry g)
    {
        int d = g.DilationHeight;
        return d > 1 && g.DilationWidth == d && g.StrideHeight == 1 && g.StrideWidth == 1
            && g.InputHeight % d == 0 && g.InputWidth % d == 0 && g.OutputHeight == g.InputHeight && g.OutputWidth == g.InputWidth
            && g.PadTop % d == 0 && g.PadLeft % d == 0 && g.PadBottom % d == 0 && g.PadRight % d == 0
            && WinogradConv.Applies(Phases(g, g.Batch));
    }

    /// <summary>Whether the weight gradient runs as phases too (Winograd's weight gradient takes the phase geometry).</summary>
    public static bool AppliesBackwardWeight(in Conv2dGeometry g) => Applies(g) && WinogradConv.AppliesBackwardWeight(Phases(g, g.Batch));

    /// <summary>The undilated geometry of the d² phases of <paramref name="images"/> images, as one batch.</summary>
    private static Conv2dGeometry Phases(in Conv2dGeometry g, int images)
    {
        int d = g.DilationHeight;
        return g with
        {
            Batch = images * d * d,
            InputHeight = g.InputHeight / d,
            InputWidth = g.InputWidth / d,
            DilationHeight = 1,
            DilationWidth = 1,
            PadTop = g.PadTop / d,
            PadLeft = g.PadLeft / d,
            PadBottom = g.PadBottom / d,
            PadRight = g.PadRight / d,
        };
    }

    /// <summary>y[n] = conv(x[n], w) + bias for images [first, end).</summary>
    public void Forward(in Conv2dGeometry g, int first, int end, float* y, float* x, float* w, float* bias, WinogradConv winograd, CpuThreadPool? pool)
    {
        int images = end - first;
        var p = Phases(g, images);
        float* xp = Buffer(ref _inputs, (long)images * g.InputChannels * g.InputHeight * g.InputWidth);
        float* yp = Buffer(ref _outputs, (long)images * g.OutputChannels * g.OutputHeight * g.OutputWidth);
        Split(xp, x, g, first, images, g.InputChannels);
        winograd.Forward(p, 0, p.Batch, yp, xp, w, bias, pool);
        Merge(y, yp, g, first, images, g.OutputChannels, accumulate: false);
    }

    /// <summary>dx[n] += ∂L/∂x[n] (written unless <paramref name="accumulate"/>) for images [first, end).</summary>
    public void BackwardInput(in Conv2dGeometry g, int first, int end, float* dx, float* dy, float* w, bool accumulate, WinogradConv winograd, CpuThreadPool? pool)
    {
        int images = end - first;
        var p = Phases(g, images);
        float* dxp = Buffer(ref _inputs, (long)images * g.InputChannels * g.InputHeight * g.InputWidth);
        float* dyp = Buffer(ref _outputs, (long)images * g.OutputChannels * g.OutputHeight * g.OutputWidth);
        Split(dyp, dy, g, first, images, g.OutputChannels);
        winograd.BackwardInput(p, 0, p.Batch, dxp, dyp, w, pool, accumulate: false);
        Merge(dx, dxp, g, first, images, g.InputChannels, accumulate);
    }

    /// <summary>dw += ∂L/∂W from images [first, end).</summary>
    public void BackwardWeight(in Conv2dGeometry g, int first, int end, float* dw, float* dy, float* x, WinogradConv winograd, CpuThreadPool? pool)
    {
        int images = end - first;
        var p = Phases(g, images);
        float* xp = Buffer(ref _inputs, (long)images * g.InputChannels * g.InputHeight * g.InputWidth);
        float* dyp = Buffer(ref _outputs, (long)images * g.OutputChannels * g.OutputHeight * g.OutputWidth);
        Split(xp, x, g, first, images, g.InputChannels);
        Split(dyp, dy, g, first, images, g.OutputChannels);
        winograd.BackwardWeight(p, 0, p.Batch, dw, dyp, xp, pool);
    }

    /// <summary>
    /// phases[(i·d² + a·d + b), c, r, s] = t[first + i, c, d·r + a, d·s + b] for the block's images i and channels c
    /// (H × W planes of t; the phase planes are H/d × W/d).
    /// </summary>
    private static void Split(float* phases, float* t, in Conv2dGeometry g, int first, int images, int channels)
    {
        int d = g.DilationHeight, h = g.InputHeight, w = g.InputWidth, ph = h / d, pw = w / d;
        long plane = (long)h * w, phasePlane = (long)ph * pw;
        for (int i = 0; i < images; i++)
        for (int c = 0; c < channels; c++)
        {
            float* src = t + ((long)(first + i) * channels + c) * plane;
            for (int a = 0; a < d; a++)
            for (int r = 0; r < ph; r++)
            {
                float* row = src + (long)(d * r + a) * w;
                if (d == 2)
                {
                    // Both column phases of this row at once: even cells to phase (a, 0), odd to (a, 1).
                    float* even = phases + (((long)i * 4 + 2 * a) * channels + c) * phasePlane + (long)r * pw;
                    float* odd = even + channels * phasePlane;
                    Deinterleave(even, odd, row, pw);
                    continue;
                }
                for (int b = 0; b < d; b++)
                {
                    float* dst = phases + (((long)i * d * d + a * d + b) * channels + c) * phasePlane + (long)r * pw;
                    for (int s = 0; s < pw; s++) dst[s] = row[d * s + b];
                }
            }
        }
    }

    /// <summary>The inverse of <see cref="Split"/>: t[first + i, c, d·r + a, d·s + b] (+)= phases[(i·d² + a·d + b), c, r, s].</summary>
    private static void Merge(float* t, float* phases, in Conv2dGeometry g, int first, int images, int channels, bool accumulate)
    {
        int d = g.DilationHeight, h = g.InputHeight, w = g.InputWidth, ph = h / d, pw = w / d;
        long plane = (long)h * w, phasePlane = (long)ph * pw;
        for (int i = 0; i < images; i++)
        for (int c = 0; c < channels; c++)
        {
            float* dstPlane = t + ((long)(first + i) * channels + c) * plane;
            for (int a = 0; a < d; a++)
            for (int r = 0; r < ph; r++)
            {
                float* row = dstPlane + (long)(d * r + a) * w;
                if (d == 2)
                {
                    float* even = phases + (((long)i * 4 + 2 * a) * channels + c) * phasePlane + (long)r * pw;
                    Interleave(row, even, even + channels * phasePlane, pw, accumulate);
                    continue;
                }
                for (int b = 0; b < d; b++)
                {
                    float* src = phases + (((long)i * d * d + a * d + b) * channels + c) * phasePlane + (long)r * pw;
                    for (int s = 0; s < pw; s++) row[d * s + b] = accumulate ? row[d * s + b] + src[s] : src[s];
                }
            }
        }
    }

    /// <summary>even[s] = row[2s], odd[s] = row[2s + 1] for s &lt; count (a row of 2·count floats).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Deinterleave(float* even, float* odd, float* row, int count)
    {
        int s = 0;
        if (Avx512F.IsSupported)
            for (; s + 16 <= count; s += 16)
            {
                var lo = Vector512.Load(row + 2 * s);
                var hi = Vector512.Load(row + 2 * s + 16);
                Avx512F.PermuteVar16x32x2(lo, WinogradTransforms.Even, hi).Store(even + s);
                Avx512F.PermuteVar16x32x2(lo, WinogradTransforms.Odd, hi).Store(odd + s);
            }
        for (; s < count; s++)
        {
            even[s] = row[2 * s];
            odd[s] = row[2 * s + 1];
        }
    }

    /// <summary>row[2s] (+)= even[s], row[2s + 1] (+)= odd[s] for s &lt; count.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Interleave(float* row, float* even, float* odd, int count, bool accumulate)
    {
        int s = 0;
        if (Avx512F.IsSupported)
            for (; s + 16 <= count; s += 16)
            {
                var e = Vector512.Load(even + s);
                var o = Vector512.Load(odd + s);
                var lo = Avx512F.PermuteVar16x32x2(e, WinogradTransforms.InterleaveLow, o);
                var hi = Avx512F.PermuteVar16x32x2(e, WinogradTransforms.InterleaveHigh, o);
                if (accumulate)
                {
                    lo += Vector512.Load(row + 2 * s);
                    hi += Vector512.Load(row + 2 * s + 16);
                }
                lo.Store(row + 2 * s);
                hi.Store(row + 2 * s + 16);
            }
        for (; s < count; s++)
        {
            row[2 * s] = accumulate ? row[2 * s] + even[s] : even[s];
            row[2 * s + 1] = accumulate ? row[2 * s + 1] + odd[s] : odd[s];
        }
    }

    private static float* Buffer(ref float[] buffer, long length)
    {
        if (buffer.Length < length) buffer = GC.AllocateUninitializedArray<float>(checked((int)length), pinned: true);
        return (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
    }
}
