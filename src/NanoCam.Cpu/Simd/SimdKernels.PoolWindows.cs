using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using NanoCam.Cpu.Naive;

namespace NanoCam.Cpu.Simd;

public sealed unsafe partial class SimdKernels
{
    // General pooling windows (any kernel, stride, padding, dilation, ceil mode), in vectors of eight output columns.
    // Window (oy, ox) reads input column ix = stride·ox + t for tap s, with t = s·dilation − padLeft. The plane is
    // first split into its stride phases: phase p holds columns p, p + stride, p + 2·stride, … of every row, so
    // tap s of eight neighbouring windows is eight consecutive floats of phase (t mod stride), starting at
    // ox + ⌊t / stride⌋. Stride 1 reads the plane itself. Columns whose window hangs over the left or right edge,
    // and rows of windows with no tap inside, run the reference rule one window at a time.

    /// <summary>A plane seen through its stride phases: <see cref="Column"/> is the offset of tap t of window column 0 in input row 0.</summary>
    private readonly struct PhasedPlane(float* data, int rowLength, int phaseSize, int stride)
    {
        public float* Data => data;
        public int RowLength => rowLength;

        public long Column(int t)
        {
            int phase = (t % stride + stride) % stride;
            return (long)phase * phaseSize + (t - phase) / stride;
        }
    }

    /// <summary>
    /// The taps of window row oy that fall inside the input (r then s order; columns assumed inside): each one's
    /// offset in the phased plane and its flat input index iy·W + t (<paramref name="columns"/>[s] is tap s's
    /// <see cref="PhasedPlane.Column"/>). Returns how many.
    /// </summary>
    private static int RowTaps(in PhasedPlane phases, in Pool2dGeometry g, int oy, ReadOnlySpan<long> columns, Span<long> offsets, Span<float> indices)
    {
        int count = 0;
        for (int r = 0; r < g.KernelHeight; r++)
        {
            int iy = oy * g.StrideHeight - g.PadTop + r * g.DilationHeight;
            if ((uint)iy >= (uint)g.InputHeight) continue;
            for (int s = 0; s < g.KernelWidth; s++)
            {
                offsets[count] = columns[s] + (long)iy * phases.RowLength;
                indices[count++] = iy * g.InputWidth + s * g.DilationWidth - g.PadLeft;
            }
        }
        return count;
    }

    /// <summary>Each tap's <see cref="PhasedPlane.Column"/>, s = 0 … kw−1.</summary>
    private static void TapColumns(in PhasedPlane phases, in Pool2dGeometry g, Span<long> columns)
    {
        for (int s = 0; s < g.KernelWidth; s++) columns[s] = phases.Column(s * g.DilationWidth - g.PadLeft);
    }

    /// <summary>Tap lists of one window row: on the stack for ordinary windows, on the heap for huge ones.</summary>
    private const int StackTaps = 256;

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
            int j = 0, pairs = w / 2;
            if (stride == 2 && Avx2.IsSupported && pairs >= 8)
            {
                // Columns (2j, 2j + 1) for j < W/2, eight j per step, the last step moved back to end at W/2.
                var even = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);
                for (; ; j += 8)
                {
                    if (j > pairs - 8) j = pairs - 8;
                    var (a, b) = Deinterleave(Vector256.Load(row + 2 * j), Vector256.Load(row + 2 * j + 8), even);
                    a.Store(phases + iy * length + j);
                    b.Store(phases + phaseSize + iy * length + j);
                    if (j == pairs - 8) break;
                }
                j = pairs;
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
        int oh = g.OutputHeight, ow = g.OutputWidth, w = g.InputWidth, taps = g.KernelHeight * g.KernelWidth;
        var (first, end) = InteriorColumns(g);
        var plane = new ReadOnlySpan<float>(x, g.InputHeight * w);
        bool vector = Vector256.IsHardwareAccelerated && end - first >= 8;
        var phases = vector ? Phases(x, g) : default;
        var lanes = Vector256.Create(0f, 1, 2, 3, 4, 5, 6, 7) * g.StrideWidth;
        Span<long> offsets = taps <= StackTaps ? stackalloc long[taps] : new long[taps];
        Span<float> indices = taps <= StackTaps ? stackalloc float[taps] : new float[taps];
        Span<long> columns = g.KernelWidth <= StackTaps ? stackalloc long[g.KernelWidth] : new long[g.KernelWidth];
        if (vector) TapColumns(phases, g, columns);
        for (int oy = 0; oy < oh; oy++)
        {
            float* yRow = y + oy * ow, amRow = am + oy * ow;
            int count = vector ? RowTaps(phases, g, oy, columns, offsets, indices) : 0;
            int vectorEnd = count > 0 ? end : first;
            for (int ox = 0; ox < ow; ox++)
            {
                if (ox == first && vectorEnd > first) ox = vectorEnd;
                if (ox >= ow) break;
                (yRow[ox], amRow[ox]) = NaiveKernels.MaxWindow(plane, g, oy, ox);
            }
            if (count == 0) continue;
            // Each step computes two vectors of windows, [ox, ox + 8) and [ox + second, ox + second + 8), as
            // two independent compare-and-select chains (one chain alone waits on its own latency at every tap).
            // Steps start at the first interior column; the last is moved back to end exactly at the interior's end
            // and, when the interior is shorter than two vectors, the second vector overlaps the first (recomputing
            // a window changes nothing).
            // (Sixteen-lane AVX-512 vectors measured no faster here than two eight-lane chains.)
            int span = Math.Min(16, end - first), second = span - 8;
            for (int ox = first; ; ox += span)
            {
                if (ox > end - span) ox = end - span;
                float* p = phases.Data + ox;
                var at = lanes + Vector256.Create((float)(ox * g.StrideWidth));
                MaxEights(p, second, offsets[..count], indices, at, second * g.StrideWidth, yRow + ox, amRow + ox);
                if (ox == end - span) break;
            }
        }
    }

    /// <summary>
    /// Windows [0, 8) and [second, second + 8) from <paramref name="p"/>: tap i at p + offsets[i], flat index
    /// <paramref name="at"/> + indices[i] (the second vector's indices lie <paramref name="columnShift"/> further on).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MaxEights(float* p, int second, ReadOnlySpan<long> offsets, ReadOnlySpan<float> indices, Vector256<float> at, int columnShift, float* y, float* am)
    {
        var at2 = at + Vector256.Create((float)columnShift);
        float* q = p + second;
        var (best, best2) = (Vector256.Load(p + offsets[0]), Vector256.Load(q + offsets[0]));
        var tap = Vector256.Create(indices[0]);
        var (index, index2) = (at + tap, at2 + tap);
        for (int i = 1; i < offsets.Length; i++)
        {
            tap = Vector256.Create(indices[i]);
            Take(ref best, ref index, Vector256.Load(p + offsets[i]), at + tap);
            Take(ref best2, ref index2, Vector256.Load(q + offsets[i]), at2 + tap);
        }
        best.Store(y);
        index.Store(am);
        best2.Store(y + second);
        index2.Store(am + second);
    }

    /// <summary>Average pooling of one plane: the reference's sum (order r then s, from 0) and divisor, eight windows at a time.</summary>
    private static void AvgWindows(float* x, float* y, in Pool2dGeometry g, bool countIncludePad)
    {
        var plane = new ReadOnlySpan<float>(x, g.InputHeight * g.InputWidth);
        int oh = g.OutputHeight, ow = g.OutputWidth, taps = g.KernelHeight * g.KernelWidth;
        var (first, end) = InteriorColumns(g);
        bool vector = Vector256.IsHardwareAccelerated && end - first >= 8;
        var phases = vector ? Phases(x, g) : default;
        Span<long> offsets = taps <= StackTaps ? stackalloc long[taps] : new long[taps];
        Span<float> indices = taps <= StackTaps ? stackalloc float[taps] : new float[taps];
        Span<long> columns = g.KernelWidth <= StackTaps ? stackalloc long[g.KernelWidth] : new long[g.KernelWidth];
        if (vector) TapColumns(phases, g, columns);
        for (int oy = 0; oy < oh; oy++)
        {
            float* yRow = y + oy * ow;
            int vectorEnd = vector ? end : first;
            for (int ox = 0; ox < ow; ox++)
            {
                if (ox == first && vectorEnd > first) ox = vectorEnd;
                if (ox >= ow) break;
                yRow[ox] = NaiveKernels.AvgWindow(plane, g, oy, ox, countIncludePad);
            }
            if (vectorEnd <= first) continue;
            var divisor = Vector256.Create((float)NaiveKernels.AvgPoolDivisor(g, oy, first, countIncludePad));
            int count = RowTaps(phases, g, oy, columns, offsets, indices);
            for (int ox = first; ; ox += 8)
            {
                if (ox > end - 8) ox = end - 8;
                float* p = phases.Data + ox;
                var sum = Vector256<float>.Zero;
                for (int i = 0; i < count; i++) sum += Vector256.Load(p + offsets[i]);
                (sum / divisor).Store(yRow + ox);
                if (ox == end - 8) break;
            }
        }
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
