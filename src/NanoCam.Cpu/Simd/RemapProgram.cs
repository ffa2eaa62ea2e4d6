using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NanoCam.Cpu.Simd;

/// <summary>
/// A <see cref="RemapPlan"/> compiled once for the SIMD forward gather: axes of one output element are dropped (their
/// offset joins the base), neighbouring axes that read one constant stride are merged, and the innermost one or two
/// axes choose a kernel — rows copied in segments (a slice, a pad, a tile), a blocked 8×8 transpose (the input's
/// unit-stride axis moved in front of the last one: NCHW↔NHWC, attention heads), or each element repeated L times
/// (nearest upsampling, expand of a trailing axis). The axes outside the kernel are walked row by row through per-axis
/// offset tables, −1 marking a row of the fill.
/// </summary>
internal sealed unsafe class RemapProgram
{
    /// <summary>What one outer row holds.</summary>
    public enum RowKernel
    {
        /// <summary>Primary columns through <see cref="Segments"/> (Secondary = 1).</summary>
        Segments,
        /// <summary>y[r·C + c] = x[r + c·s] for r &lt; Primary (R), c &lt; Secondary (C), s = <see cref="SecondaryStride"/>.</summary>
        Transpose,
        /// <summary>y[m·L + l] = x[m·s] for m &lt; Primary (M), l &lt; Secondary (L), s = <see cref="PrimaryStride"/>.</summary>
        RepeatEach,
        /// <summary>
        /// y[r·C + c] = x[r + t[c]] for r &lt; Primary (R), c &lt; Secondary (C), t = <see cref="ColumnOffsets"/>: the
        /// transpose when the columns span several axes that do not merge (a patch embedding's [C, KH, KW, OH, OW] from
        /// NCHW: KW the rows, OH·OW the columns).
        /// </summary>
        TransposeGather,
    }

    /// <summary>A run of one row: a block copy, the fill, one input element repeated, a strided gather or the last axis's table.</summary>
    public enum SegmentKind { Copy, Fill, Repeat, Strided, Table }

    /// <summary>Columns [Start, Start + Length) of a row; input element Offset (relative to the row's base) is the first one read.</summary>
    public readonly record struct Segment(SegmentKind Kind, int Start, int Length, int Offset, int Stride);

    /// <summary>An output axis of the compiled map: offset(i) = Start + i·Stride, or Table[i] (−1 filled) where a border is consulted.</summary>
    private readonly record struct Axis(int Size, int Start, int Stride, int[]? Table);

    // The largest repeat that RepeatEach handles with vector permutes (one load feeds L stores).
    private const int MaxVectorRepeat = 8;

    public RemapProgram(RemapPlan plan)
    {
        Fill = plan.Fill;
        OutputSize = plan.OutputSize;
        var axes = new List<Axis>();
        int baseOffset = 0;
        for (int a = 0; a < plan.Rank; a++)
        {
            var axis = plan.Axes[a];
            var offsets = plan.AxisOffsets(a);
            if (axis.OutputSize == 1)
            {
                if (offsets[0] < 0) AllFilled = true;
                else baseOffset += offsets[0];
                continue;
            }
            var next = Inside(axis)
                ? new Axis(axis.OutputSize, axis.Start * axis.InputStride, axis.Step * axis.InputStride, null)
                : new Axis(axis.OutputSize, 0, 0, offsets.ToArray());
            if (next.Table is { } t && !t.AsSpan().ContainsAnyExcept(-1)) AllFilled = true;
            // offset = S1 + i1·d1 + S2 + i2·d2 is one axis over i1·n2 + i2 when d1 = n2·d2.
            if (axes.Count > 0 && axes[^1] is { Table: null } outer && next.Table is null && outer.Stride == next.Stride * next.Size)
                axes[^1] = new Axis(outer.Size * next.Size, outer.Start + next.Start, next.Stride, null);
            else axes.Add(next);
        }
        if (AllFilled || OutputSize == 0)
        {
            OuterSizes = [];
            OuterOffsets = [];
            Segments = [];
            return;
        }

        int k = axes.Count, kernelAxes;
        if (k >= 2 && axes[k - 2] is { Table: null } p && axes[k - 1] is { Table: null } q && q.Stride == 0 && p.Stride != 0 && q.Size <= MaxVectorRepeat)
        {
            Kernel = RowKernel.RepeatEach;
            (Primary, Secondary, PrimaryStride) = (p.Size, q.Size, p.Stride);
            baseOffset += p.Start + q.Start;
            kernelAxes = 2;
            RepeatIndices = BuildRepeatIndices(q.Size);
        }
        else if (k >= 2 && axes[k - 2] is { Table: null } r && axes[k - 1] is { Table: null } c && r.Stride == 1 && c.Stride != 0 && r.Size >= 8 && c.Size >= 8)
        {
            Kernel = RowKernel.Transpose;
            (Primary, Secondary, SecondaryStride) = (r.Size, c.Size, c.Stride);
            baseOffset += r.Start + c.Start;
            kernelAxes = 2;
        }
        else if (GatherTransposeAxis(axes) is var g and >= 0)
        {
            Kernel = RowKernel.TransposeGather;
            Primary = axes[g].Size;
            baseOffset += axes[g].Start;
            ColumnOffsets = ColumnTable(axes, g + 1);
            Secondary = ColumnOffsets.Length;
            kernelAxes = k - g;
        }
        else if (k >= 1)
        {
            Kernel = RowKernel.Segments;
            var last = axes[k - 1];
            (Primary, Secondary) = (last.Size, 1);
            if (last.Table is { } table)
            {
                Segments = BuildSegments(table);
                LastOffsets = table;
            }
            else
            {
                baseOffset += last.Start;
                Segments = [last.Stride switch
                {
                    1 => new Segment(SegmentKind.Copy, 0, last.Size, 0, 1),
                    0 => new Segment(SegmentKind.Repeat, 0, last.Size, 0, 0),
                    _ => new Segment(SegmentKind.Strided, 0, last.Size, 0, last.Stride),
                }];
            }
            kernelAxes = 1;
        }
        else
        {
            // One element: a scalar, or every axis of size 1.
            (Primary, Secondary) = (1, 1);
            Segments = [new Segment(SegmentKind.Copy, 0, 1, 0, 1)];
            kernelAxes = 0;
        }
        Segments ??= [];
        Base = baseOffset;
        int outerCount = k - kernelAxes;
        OuterSizes = new int[outerCount];
        OuterOffsets = new int[outerCount][];
        OuterRows = 1;
        for (int a = 0; a < outerCount; a++)
        {
            var axis = axes[a];
            OuterSizes[a] = axis.Size;
            OuterOffsets[a] = axis.Table ?? [.. Enumerable.Range(0, axis.Size).Select(i => axis.Start + i * axis.Stride)];
            OuterRows *= axis.Size;
        }
    }

    public float Fill { get; }

    public int OutputSize { get; }

    /// <summary>Some axis of one element, or a bordered axis, reads only the fill: the whole output is the fill.</summary>
    public bool AllFilled { get; }

    public RowKernel Kernel { get; }

    /// <summary>The input offset every row adds (axes of one element and the kernel axes' starts).</summary>
    public int Base { get; }

    /// <summary>The axes outside the row kernel, outermost first, with each coordinate's input offset (−1: a row of the fill).</summary>
    public int[] OuterSizes { get; }

    public int[][] OuterOffsets { get; }

    /// <summary>The number of rows: the product of <see cref="OuterSizes"/>.</summary>
    public int OuterRows { get; }

    /// <summary>The row kernel's split dimension (columns, R or M).</summary>
    public int Primary { get; }

    /// <summary>Output elements per unit of Primary (1, C or L).</summary>
    public int Secondary { get; }

    public int PrimaryStride { get; }

    public int SecondaryStride { get; }

    public int RowSize => Primary * Secondary;

    public Segment[] Segments { get; } = null!;

    /// <summary>The last axis's offsets where <see cref="Segments"/> reads a table.</summary>
    public int[]? LastOffsets { get; }

    /// <summary>For TransposeGather: each column's input offset (relative to the row's base).</summary>
    public int[]? ColumnOffsets { get; }

    /// <summary>For RepeatEach: permute indices, vector q of output block picking input lane (q·W + t)/L (W = 16, then 8).</summary>
    private int[]? RepeatIndices { get; }

    // The most columns a TransposeGather table holds (offsets are kept per column).
    private const int MaxGatherColumns = 1 << 16;

    /// <summary>
    /// The axis a TransposeGather runs along, or −1: an axis of unit stride and 8 or more elements, not among the last two,
    /// every axis after it without a border table and of 8 or more columns in all, the last one not of unit stride (else
    /// its rows are block copies).
    /// </summary>
    private static int GatherTransposeAxis(List<Axis> axes)
    {
        int k = axes.Count;
        if (k < 3 || axes[k - 1].Stride is 1 or 0) return -1;
        long columns = 1;
        for (int a = k - 1; a >= 1; a--)
        {
            var axis = axes[a];
            if (axis.Table is not null) return -1;
            columns *= axis.Size;
            if (columns > MaxGatherColumns) return -1;
            var candidate = axes[a - 1];
            if (a - 1 <= k - 3 && candidate is { Table: null, Stride: 1, Size: >= 8 } && columns >= 8) return a - 1;
        }
        return -1;
    }

    /// <summary>The offsets of the axes from <paramref name="first"/> on, row-major over their coordinates.</summary>
    private static int[] ColumnTable(List<Axis> axes, int first)
    {
        int count = 1;
        for (int a = first; a < axes.Count; a++) count *= axes[a].Size;
        var table = new int[count];
        int n = 1;
        table[0] = 0;
        // Grow the table axis by axis: each new axis repeats the table so far at each of its offsets.
        for (int a = first; a < axes.Count; a++)
        {
            var axis = axes[a];
            for (int i = n * axis.Size - 1; i >= 0; i--) table[i] = table[i / axis.Size] + axis.Start + (i % axis.Size) * axis.Stride;
            n *= axis.Size;
        }
        return table;
    }

    private static bool Inside(RemapAxis axis)
    {
        long first = axis.Start, last = axis.Start + (long)axis.Step * (axis.OutputSize - 1);
        return Math.Min(first, last) >= 0 && Math.Max(first, last) < axis.InputSize;
    }

    /// <summary>
    /// The last axis's table as runs: consecutive offsets a block copy, repeated ones a repeat, −1s the fill; a table
    /// that breaks into many short runs (a wrap of a tiny axis, a step of 2) stays one table gather.
    /// </summary>
    private static Segment[] BuildSegments(int[] table)
    {
        var segments = new List<Segment>();
        int n = table.Length;
        for (int j = 0; j < n;)
        {
            int o = table[j], end = j + 1;
            SegmentKind kind;
            if (o < 0)
            {
                while (end < n && table[end] < 0) end++;
                kind = SegmentKind.Fill;
            }
            else if (end < n && table[end] == o)
            {
                while (end < n && table[end] == o) end++;
                kind = SegmentKind.Repeat;
            }
            else
            {
                while (end < n && table[end] == table[end - 1] + 1 && table[end - 1] >= 0) end++;
                kind = SegmentKind.Copy;
            }
            segments.Add(new Segment(kind, j, end - j, Math.Max(o, 0), 1));
            j = end;
        }
        return segments.Count <= Math.Max(4, n / 8) ? [.. segments] : [new Segment(SegmentKind.Table, 0, n, 0, 0)];
    }

    private static int[] BuildRepeatIndices(int repeat)
    {
        // 16-lane vectors first (repeat of them), then 8-lane ones (repeat of them).
        var indices = new int[16 * repeat + 8 * repeat];
        for (int q = 0; q < repeat; q++)
        for (int t = 0; t < 16; t++)
            indices[q * 16 + t] = (q * 16 + t) / repeat;
        for (int q = 0; q < repeat; q++)
        for (int t = 0; t < 8; t++)
            indices[16 * repeat + q * 8 + t] = (q * 8 + t) / repeat;
        return indices;
    }

    /// <summary>Writes the part [p0, p1) of the Primary dimension of one row at <paramref name="y"/> (the row's start), reading from x + offset.</summary>
    public void Row(float* y, float* x, int offset, bool filled, int p0, int p1)
    {
        if (filled)
        {
            new Span<float>(y + (long)p0 * Secondary, (p1 - p0) * Secondary).Fill(Fill);
            return;
        }
        switch (Kernel)
        {
            case RowKernel.Segments: SegmentsRow(y, x + offset, p0, p1); break;
            case RowKernel.Transpose: TransposeRows(y, x + offset, Primary, Secondary, SecondaryStride, p0, p1); break;
            case RowKernel.TransposeGather: GatherRows(y, x + offset, Secondary, ColumnOffsets!, p0, p1); break;
            default: RepeatEachRow(y, x + offset, p0, p1); break;
        }
    }

    private void SegmentsRow(float* y, float* x, int j0, int j1)
    {
        foreach (var s in Segments)
        {
            int a = Math.Max(s.Start, j0), b = Math.Min(s.Start + s.Length, j1);
            if (a >= b) continue;
            int skip = a - s.Start, count = b - a;
            switch (s.Kind)
            {
                case SegmentKind.Copy:
                    CopyRun(y + a, x + s.Offset + skip, count);
                    break;
                case SegmentKind.Fill:
                    new Span<float>(y + a, count).Fill(Fill);
                    break;
                case SegmentKind.Repeat:
                    new Span<float>(y + a, count).Fill(x[s.Offset]);
                    break;
                case SegmentKind.Strided:
                {
                    float* source = x + s.Offset + (long)skip * s.Stride;
                    for (int j = 0; j < count; j++) y[a + j] = source[(long)j * s.Stride];
                    break;
                }
                default:
                {
                    var table = LastOffsets!;
                    for (int j = a; j < b; j++) y[j] = table[j] < 0 ? Fill : x[table[j]];
                    break;
                }
            }
        }
    }

    /// <summary>
    /// n floats from x to y (separate buffers), inline for the short runs of pads and slices: whole vectors, then one
    /// last vector ending at n that overlaps the one before; runs under 8 one by one.
    /// </summary>
    private static void CopyRun(float* y, float* x, int n)
    {
        if (n >= 16 && Vector512.IsHardwareAccelerated)
        {
            int i = 0;
            for (; i + 16 <= n; i += 16) Vector512.Load(x + i).Store(y + i);
            if (i < n) Vector512.Load(x + n - 16).Store(y + n - 16);
        }
        else if (n >= 8)
        {
            int i = 0;
            for (; i + 8 <= n; i += 8) Vector256.Load(x + i).Store(y + i);
            if (i < n) Vector256.Load(x + n - 8).Store(y + n - 8);
        }
        else
            for (int i = 0; i < n; i++) y[i] = x[i];
    }

    /// <summary>y[r·C + c] = x[r + c·s] for r in [r0, r1): 8×8 blocks through AVX registers, the edges one by one.</summary>
    internal static void TransposeRows(float* y, float* x, int rows, int columns, int stride, int r0, int r1)
    {
        _ = rows;
        int r = r0;
        if (Avx.IsSupported)
        {
            for (; r + 8 <= r1; r += 8)
            {
                int c = 0;
                for (; c + 8 <= columns; c += 8) Transpose8x8(x + r + (long)c * stride, stride, y + (long)r * columns + c, columns);
                for (; c < columns; c++)
                {
                    float* source = x + r + (long)c * stride;
                    for (int i = 0; i < 8; i++) y[(long)(r + i) * columns + c] = source[i];
                }
            }
        }
        for (; r < r1; r++)
        {
            float* row = y + (long)r * columns;
            for (int c = 0; c < columns; c++) row[c] = x[r + (long)c * stride];
        }
    }

    /// <summary>y[r·C + c] = x[r + t[c]] for r in [r0, r1): 8×8 blocks whose eight source rows come from the table, the edges one by one.</summary>
    internal static void GatherRows(float* y, float* x, int columns, int[] table, int r0, int r1)
    {
        int r = r0;
        fixed (int* t = table)
        {
            if (Avx.IsSupported)
            {
                for (; r + 8 <= r1; r += 8)
                {
                    int c = 0;
                    for (; c + 8 <= columns; c += 8)
                    {
                        float* s = x + r;
                        int* o = t + c;
                        Transpose8x8(s + o[0], s + o[1], s + o[2], s + o[3], s + o[4], s + o[5], s + o[6], s + o[7], y + (long)r * columns + c, columns);
                    }
                    for (; c < columns; c++)
                    {
                        float* source = x + r + t[c];
                        for (int i = 0; i < 8; i++) y[(long)(r + i) * columns + c] = source[i];
                    }
                }
            }
            for (; r < r1; r++)
            {
                float* row = y + (long)r * columns;
                for (int c = 0; c < columns; c++) row[c] = x[r + t[c]];
            }
        }
    }

    /// <summary>The 8×8 block at <paramref name="source"/> (rows <paramref name="sourceStride"/> apart) transposed into <paramref name="destination"/>.</summary>
    private static void Transpose8x8(float* source, int sourceStride, float* destination, int destinationStride) =>
        Transpose8x8(source, source + sourceStride, source + 2L * sourceStride, source + 3L * sourceStride, source + 4L * sourceStride,
            source + 5L * sourceStride, source + 6L * sourceStride, source + 7L * sourceStride, destination, destinationStride);

    /// <summary>The 8×8 block of eight source rows of eight floats transposed into <paramref name="destination"/> (rows <paramref name="destinationStride"/> apart).</summary>
    private static void Transpose8x8(float* s0, float* s1, float* s2, float* s3, float* s4, float* s5, float* s6, float* s7, float* destination, int destinationStride)
    {
        var r0 = Avx.LoadVector256(s0);
        var r1 = Avx.LoadVector256(s1);
        var r2 = Avx.LoadVector256(s2);
        var r3 = Avx.LoadVector256(s3);
        var r4 = Avx.LoadVector256(s4);
        var r5 = Avx.LoadVector256(s5);
        var r6 = Avx.LoadVector256(s6);
        var r7 = Avx.LoadVector256(s7);
        // Pairs of rows interleaved, then pairs of pairs, then the 128-bit halves: column j of the block in register j.
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(destination, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(destination + destinationStride, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(destination + 2L * destinationStride, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(destination + 3L * destinationStride, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(destination + 4L * destinationStride, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(destination + 5L * destinationStride, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(destination + 6L * destinationStride, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(destination + 7L * destinationStride, Avx.Permute2x128(u3, u7, 0x31));
    }

    /// <summary>y[m·L + l] = x[m·s] for m in [m0, m1): with s = 1, one vector load feeds L permuted stores.</summary>
    private void RepeatEachRow(float* y, float* x, int m0, int m1)
    {
        int repeat = Secondary, stride = PrimaryStride, m = m0;
        if (stride == 1)
        {
            fixed (int* indices = RepeatIndices)
            {
                if (Avx512F.IsSupported)
                {
                    for (; m + 16 <= m1; m += 16)
                    {
                        var v = Avx512F.LoadVector512(x + m);
                        float* output = y + (long)m * repeat;
                        for (int q = 0; q < repeat; q++)
                            Avx512F.Store(output + q * 16, Avx512F.PermuteVar16x32(v, Avx512F.LoadVector512(indices + q * 16)));
                    }
                }
                if (Avx2.IsSupported)
                {
                    int* indices8 = indices + 16 * repeat;
                    for (; m + 8 <= m1; m += 8)
                    {
                        var v = Avx.LoadVector256(x + m);
                        float* output = y + (long)m * repeat;
                        for (int q = 0; q < repeat; q++)
                            Avx.Store(output + q * 8, Avx2.PermuteVar8x32(v, Avx.LoadVector256(indices8 + q * 8)));
                    }
                }
            }
        }
        for (; m < m1; m++)
        {
            float value = x[(long)m * stride];
            float* output = y + (long)m * repeat;
            for (int l = 0; l < repeat; l++) output[l] = value;
        }
    }
}
