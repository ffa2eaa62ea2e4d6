using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using NanoCam.Cpu.Naive;

namespace NanoCam.Cpu.Simd;

public sealed unsafe partial class SimdKernels
{
    // General pooling windows (any kernel, stride, padding, dilation, ceil mode), eight output columns per step.
    // Window (oy, ox) reads input column ix = stride·ox + t for tap s, with t = s·dilation − padLeft. The plane is
    // first split into its stride phases: phase p holds columns p, p + stride, p + 2·stride, … of every row, so
    // tap s of eight neighbouring windows is eight consecutive floats of phase (t mod stride), starting at
    // ox + ⌊t / stride⌋. Stride 1 reads the plane itself. Columns whose window hangs over the left or right edge,
    // and rows of windows with no tap inside, run the reference rule one window at a time.

    /// <summary>A plane seen through its stride phases: <see cref="Tap"/> points at tap t of window column 0 in input row iy.</summary>
    private readonly struct PhasedPlane(float* data, int rowLength, int phaseSize, int stride)
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float* Tap(int iy, int t)
        {
            int phase = (t % stride + stride) % stride;
            return data + (long)phase * phaseSize + (long)iy * rowLength + (t - phase) / stride;
        }
    }

    [ThreadStatic] private static float[]? t_phases;

    /// <summary>
    /// The columns [first, end) of windows whose taps all lie inside the input width (end ≤ first when none do).
    /// </summary>
    private static (int First, int End) InteriorColumns(in Pool2dGeometry g)
    {
        int first = (g.PadLeft + g.StrideWidth - 1) / g.StrideWidth;
        int last = g.InputWidth - 1 + g.PadLeft - (g.KernelWidth - 1) * g.DilationWidth;
        int end = last < 0 ? 0 : Math.Min(g.OutputWidth, last / g.StrideWidth + 1);
        return (Math.Min(first, g.OutputWidth), end);
    }

    /// <summary>Splits plane x into its stride phases in per-thread scratch (stride 1: the plane itself).</summary>
    private static PhasedPlane Phases(float* x, in Pool2dGeometry g)
    {
        int h = g.InputHeight, w = g.InputWidth, stride = g.StrideWidth;
        if (stride == 1) return new PhasedPlane(x, w, h * w, 1);
        int length = (w + stride - 1) / stride, phaseSize = h * length;
        var scratch = t_phases;
        if (scratch is null || scratch.Length < stride * phaseSize)
            t_phases = scratch = GC.AllocateUninitializedArray<float>(stride * phaseSize, pinned: true);
        float* phases = (float*)Unsafe.AsPointer(ref scratch[0]);
        for (int iy = 0; iy < h; iy++)
        {
            float* row = x + (long)iy * w;
            int j = 0;
            if (stride == 2 && Avx2.IsSupported)
            {
                var even = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);
                for (; 2 * j + 16 <= w; j += 8)
                {
                    var (a, b) = Deinterleave(Vector256.Load(row + 2 * j), Vector256.Load(row + 2 * j + 8), even);
                    a.Store(phases + iy * length + j);
                    b.Store(phases + phaseSize + iy * length + j);
                }
            }
            for (; j < length; j++)
                for (int p = 0; p < stride && p + stride * j < w; p++)
                    phases[(long)p * phaseSize + iy * length + j] = row[p + stride * j];
        }
        return new PhasedPlane(phases, length, phaseSize, stride);
    }

    /// <summary>Max pooling of one plane by the general rule: window order r then s, first maximum wins, NaN wins and stays.</summary>
    private static void MaxWindows(float* x, float* y, float* am, in Pool2dGeometry g)
    {
        int oh = g.OutputHeight, ow = g.OutputWidth, w = g.InputWidth;
        var (first, end) = InteriorColumns(g);
        var plane = new ReadOnlySpan<float>(x, g.InputHeight * w);
        bool vector = Vector256.IsHardwareAccelerated && end - first >= 8;
        var phases = vector ? Phases(x, g) : default;
        var lanes = Vector256.Create(0f, 1, 2, 3, 4, 5, 6, 7) * g.StrideWidth;
        for (int oy = 0; oy < oh; oy++)
        {
            float* yRow = y + oy * ow, amRow = am + oy * ow;
            bool anyRow = false;
            for (int r = 0; r < g.KernelHeight && !anyRow; r++)
                anyRow = (uint)(oy * g.StrideHeight - g.PadTop + r * g.DilationHeight) < (uint)g.InputHeight;
            int vectorEnd = vector && anyRow ? end : first;
            for (int ox = 0; ox < ow; ox++)
            {
                if (ox == first && vectorEnd > first) ox = vectorEnd;
                if (ox >= ow) break;
                (yRow[ox], amRow[ox]) = NaiveKernels.MaxWindow(plane, g, oy, ox);
            }
            if (vectorEnd <= first) continue;
            // Steps of eight from the first interior column; the last step is moved back to end exactly at the
            // interior's end (it recomputes a few windows, which changes nothing).
            for (int ox = first; ; ox += 8)
            {
                if (ox > end - 8) ox = end - 8;
                MaxEight(phases, g, oy, ox, lanes + Vector256.Create((float)(ox * g.StrideWidth)), out var best, out var index);
                best.Store(yRow + ox);
                index.Store(amRow + ox);
                if (ox == end - 8) break;
            }
        }
    }

    /// <summary>Windows (oy, ox … ox+7), all columns inside; <paramref name="columns"/> holds stride·(ox + lane).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MaxEight(in PhasedPlane phases, in Pool2dGeometry g, int oy, int ox, Vector256<float> columns,
        out Vector256<float> best, out Vector256<float> index)
    {
        best = default;
        index = default;
        bool started = false;
        for (int r = 0; r < g.KernelHeight; r++)
        {
            int iy = oy * g.StrideHeight - g.PadTop + r * g.DilationHeight;
            if ((uint)iy >= (uint)g.InputHeight) continue;
            for (int s = 0; s < g.KernelWidth; s++)
            {
                int t = s * g.DilationWidth - g.PadLeft;
                var v = Vector256.Load(phases.Tap(iy, t) + ox);
                var at = columns + Vector256.Create((float)(iy * g.InputWidth + t));
                if (!started) (best, index, started) = (v, at, true);
                else Take(ref best, ref index, v, at);
            }
        }
    }

    /// <summary>Average pooling of one plane: the reference's sum (order r then s, from 0) and divisor, eight windows at a time.</summary>
    private static void AvgWindows(float* x, float* y, in Pool2dGeometry g, bool countIncludePad)
    {
        int oh = g.OutputHeight, ow = g.OutputWidth;
        var (first, end) = InteriorColumns(g);
        bool vector = Vector256.IsHardwareAccelerated && end - first >= 8;
        var phases = vector ? Phases(x, g) : default;
        for (int oy = 0; oy < oh; oy++)
        {
            float* yRow = y + oy * ow;
            int vectorEnd = vector ? end : first;
            for (int ox = 0; ox < ow; ox++)
            {
                if (ox == first && vectorEnd > first) ox = vectorEnd;
                if (ox >= ow) break;
                yRow[ox] = AvgWindow(x, g, oy, ox, countIncludePad);
            }
            if (vectorEnd <= first) continue;
            var divisor = Vector256.Create((float)NaiveKernels.AvgPoolDivisor(g, oy, first, countIncludePad));
            for (int ox = first; ; ox += 8)
            {
                if (ox > end - 8) ox = end - 8;
                var sum = Vector256<float>.Zero;
                for (int r = 0; r < g.KernelHeight; r++)
                {
                    int iy = oy * g.StrideHeight - g.PadTop + r * g.DilationHeight;
                    if ((uint)iy >= (uint)g.InputHeight) continue;
                    for (int s = 0; s < g.KernelWidth; s++)
                        sum += Vector256.Load(phases.Tap(iy, s * g.DilationWidth - g.PadLeft) + ox);
                }
                (sum / divisor).Store(yRow + ox);
                if (ox == end - 8) break;
            }
        }
    }

    /// <summary>One window's mean by the reference rule.</summary>
    private static float AvgWindow(float* x, in Pool2dGeometry g, int oy, int ox, bool countIncludePad)
    {
        float sum = 0;
        for (int r = 0; r < g.KernelHeight; r++)
        {
            int iy = oy * g.StrideHeight - g.PadTop + r * g.DilationHeight;
            if ((uint)iy >= (uint)g.InputHeight) continue;
            for (int s = 0; s < g.KernelWidth; s++)
            {
                int ix = ox * g.StrideWidth - g.PadLeft + s * g.DilationWidth;
                if ((uint)ix < (uint)g.InputWidth) sum += x[iy * g.InputWidth + ix];
            }
        }
        return sum / NaiveKernels.AvgPoolDivisor(g, oy, ox, countIncludePad);
    }

    /// <summary>
    /// Average pooling backward of one plane: each window's share dy/divisor goes to each of its taps. Stride-1
    /// interior columns add eight shares per tap with one vector add (distinct cells, so no lane collides).
    /// </summary>
    private static void AvgWindowsBackward(float* dx, float* dy, in Pool2dGeometry g, bool countIncludePad)
    {
        int oh = g.OutputHeight, ow = g.OutputWidth, w = g.InputWidth;
        var (first, end) = InteriorColumns(g);
        bool vector = Vector256.IsHardwareAccelerated && g.StrideWidth == 1 && end - first >= 8;
        for (int oy = 0; oy < oh; oy++)
        {
            float* dyRow = dy + oy * ow;
            int vectorEnd = vector ? first + (end - first) / 8 * 8 : first;
            for (int ox = 0; ox < ow; ox++)
            {
                if (ox == first && vectorEnd > first) ox = vectorEnd;
                if (ox >= ow) break;
                float share = dyRow[ox] / NaiveKernels.AvgPoolDivisor(g, oy, ox, countIncludePad);
                for (int r = 0; r < g.KernelHeight; r++)
                {
                    int iy = oy * g.StrideHeight - g.PadTop + r * g.DilationHeight;
                    if ((uint)iy >= (uint)g.InputHeight) continue;
                    for (int s = 0; s < g.KernelWidth; s++)
                    {
                        int ix = ox * g.StrideWidth - g.PadLeft + s * g.DilationWidth;
                        if ((uint)ix < (uint)w) dx[iy * w + ix] += share;
                    }
                }
            }
            if (vectorEnd <= first) continue;
            var divisor = Vector256.Create((float)NaiveKernels.AvgPoolDivisor(g, oy, first, countIncludePad));
            for (int ox = first; ox < vectorEnd; ox += 8)
            {
                var share = Vector256.Load(dyRow + ox) / divisor;
                for (int r = 0; r < g.KernelHeight; r++)
                {
                    int iy = oy * g.StrideHeight - g.PadTop + r * g.DilationHeight;
                    if ((uint)iy >= (uint)g.InputHeight) continue;
                    for (int s = 0; s < g.KernelWidth; s++)
                    {
                        float* cell = dx + iy * w + ox - g.PadLeft + s * g.DilationWidth;
                        (Vector256.Load(cell) + share).Store(cell);
                    }
                }
            }
        }
    }
}
