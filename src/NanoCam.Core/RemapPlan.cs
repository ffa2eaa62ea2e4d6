namespace NanoCam;

/// <summary>What a remap reads where an output coordinate maps outside its input axis.</summary>
public enum BorderMode
{
    /// <summary>The plan's fill value (ONNX Pad 'constant').</summary>
    Constant,
    /// <summary>The nearest edge element: c clamped to [0, n − 1] (ONNX 'edge', NumPy 'edge').</summary>
    Edge,
    /// <summary>Mirrored without repeating the edge: …, 2, 1, [0, 1, …, n−1], n−2, … (period 2(n − 1); ONNX/NumPy 'reflect').</summary>
    Reflect,
    /// <summary>Periodic: c mod n (ONNX 'wrap', NumPy 'wrap'; also how Tile repeats).</summary>
    Wrap,
}

/// <summary>
/// One output axis of a remap: output coordinate i reads input coordinate c = Start + Step·i along an input axis of
/// InputSize elements InputStride apart; where c falls outside [0, InputSize), <see cref="Border"/> decides.
/// </summary>
public readonly record struct RemapAxis(int OutputSize, int InputSize, int InputStride, int Start, int Step, BorderMode Border);

/// <summary>
/// A gather by index arithmetic, the one kernel behind transpose, slice, pad, expand and tile:
/// output[i_0, …, i_(r−1)] = input[Σ_a resolve_a(Start_a + Step_a·i_a)·InputStride_a], or <see cref="Fill"/> where an
/// axis with a constant border maps outside its input. The output is row-major over <see cref="Axes"/> in order, and an
/// output axis may read any input axis (its InputStride picks it): transpose lists the axes in permuted order, slice
/// sets Start/Step (Step may be negative or 0), expand is Step 0, tile is Border Wrap.
/// </summary>
public sealed class RemapPlan
{
    private readonly RemapAxis[] _axes;
    // Per axis, per output coordinate: the resolved input coordinate times the stride, or −1 where it is filled.
    private readonly int[][] _axisOffsets;
    private RemapPlan? _coalesced;

    public RemapPlan(IReadOnlyList<RemapAxis> axes, float fill = 0f)
    {
        _axes = [.. axes];
        Fill = fill;
        OutputDims = new int[_axes.Length];
        _axisOffsets = new int[_axes.Length][];
        long outputSize = 1, lastInput = 0;
        for (int a = 0; a < _axes.Length; a++)
        {
            var axis = _axes[a];
            if (axis.OutputSize < 0 || axis.InputSize < 0 || axis.InputStride < 0)
                throw new ArgumentException($"remap: axis {a} {axis} has a negative size or stride");
            if (axis.Border != BorderMode.Constant && axis.InputSize == 0 && axis.OutputSize > 0)
                throw new ArgumentException($"remap: axis {a} reads an empty input axis with border {axis.Border}; only a constant border can fill it");
            OutputDims[a] = axis.OutputSize;
            outputSize *= axis.OutputSize;
            if (axis.InputSize > 0) lastInput += (long)(axis.InputSize - 1) * axis.InputStride;
            var offsets = new int[axis.OutputSize];
            for (int i = 0; i < offsets.Length; i++)
            {
                int c = Resolve(axis.Start + (long)axis.Step * i, axis.InputSize, axis.Border);
                offsets[i] = c < 0 ? -1 : c * axis.InputStride;
                if (c < 0) HasFilledCells = true;
            }
            _axisOffsets[a] = offsets;
        }
        if (outputSize > int.MaxValue || lastInput >= int.MaxValue) throw new ArgumentException("remap: more than 2^31 elements");
        OutputSize = (int)outputSize;
        // An empty output reads nothing, so any input (an empty one too) will do.
        MinimumInputSize = outputSize == 0 ? 0 : (int)lastInput + 1;
        if (OutputSize == 0) HasFilledCells = false;
        IsInjective = ReadsEachInputOnce(_axes);
    }

    /// <summary>
    /// Whether no two output cells read the same input element (transpose, slice, constant pad: yes; expand, tile, edge,
    /// reflect or wrap pads: no), so a backward pass may write each input gradient without adding up collisions.
    /// Decided conservatively from the axes: each axis with more than one output must step (Step ≠ 0), never resolve a
    /// border other than the constant one, and its effective stride |Step|·InputStride must exceed the span of all
    /// finer axes together (the range of input coordinates each reads, times its stride), like the digits of a
    /// mixed-radix number.
    /// </summary>
    public bool IsInjective { get; }

    private static bool ReadsEachInputOnce(RemapAxis[] axes)
    {
        var strides = new List<(long Stride, long Span)>();
        foreach (var axis in axes)
        {
            if (axis.OutputSize <= 1) continue;
            if (axis.Step == 0 || axis.InputStride == 0) return false;
            if (!Inside(axis, out long first, out long last) && axis.Border != BorderMode.Constant) return false;
            // The coordinates actually read: a constant border reads only those inside [0, InputSize).
            long low = Math.Max(Math.Min(first, last), 0), high = Math.Min(Math.Max(first, last), axis.InputSize - 1);
            long stride = (long)Math.Abs(axis.Step) * axis.InputStride;
            strides.Add((stride, Math.Max(high - low, 0) * axis.InputStride));
        }
        strides.Sort();
        long covered = 0;
        foreach (var (stride, span) in strides)
        {
            if (stride <= covered) return false;
            covered += span;
        }
        return true;
    }

    /// <summary>The output axes, outermost first.</summary>
    public IReadOnlyList<RemapAxis> Axes => _axes;

    /// <summary>The value of a cell whose input coordinate falls outside on an axis with a constant border.</summary>
    public float Fill { get; }

    /// <summary>The output shape (each axis's OutputSize). Do not modify.</summary>
    public int[] OutputDims { get; }

    public int Rank => _axes.Length;

    /// <summary>Number of output elements.</summary>
    public int OutputSize { get; }

    /// <summary>The input must hold at least this many elements: 1 + Σ (InputSize − 1)·InputStride.</summary>
    public int MinimumInputSize { get; }

    /// <summary>Whether some output cell is filled with <see cref="Fill"/> rather than read.</summary>
    public bool HasFilledCells { get; }

    /// <summary>Where output coordinate i of <paramref name="axis"/> reads: its input coordinate times the stride, or −1 for a filled cell.</summary>
    public ReadOnlySpan<int> AxisOffsets(int axis) => _axisOffsets[axis];

    /// <summary>The flat input index that output element <paramref name="outputIndex"/> reads, or −1 for a constant-filled cell.</summary>
    public int InputOffset(int outputIndex)
    {
        int offset = 0;
        bool filled = false;
        for (int a = _axes.Length - 1; a >= 0; a--)
        {
            int size = _axes[a].OutputSize, i = outputIndex % size;
            outputIndex /= size;
            int o = _axisOffsets[a][i];
            if (o < 0) filled = true;
            else offset += o;
        }
        return filled ? -1 : offset;
    }

    /// <summary>Input coordinate <paramref name="c"/> of an axis of <paramref name="size"/> under <paramref name="border"/>, in [0, size), or −1 for the fill.</summary>
    public static int Resolve(long c, int size, BorderMode border)
    {
        if (c >= 0 && c < size) return (int)c;
        switch (border)
        {
            case BorderMode.Edge:
                return c < 0 ? 0 : size - 1;
            case BorderMode.Reflect:
            {
                if (size == 1) return 0;
                long period = 2L * (size - 1), m = ((c % period) + period) % period;
                return (int)(m < size ? m : period - m);
            }
            case BorderMode.Wrap:
                return (int)(((c % size) + size) % size);
            default:
                return -1;
        }
    }

    /// <summary>Whether this plan was built from exactly these axes and fill (lets a tape node keep its plan from pass to pass).</summary>
    public bool Matches(ReadOnlySpan<RemapAxis> axes, float fill) =>
        fill.Equals(Fill) && axes.SequenceEqual(_axes);

    /// <summary>
    /// The same map with fewer axes: neighbouring axes that never leave their input and read it with one constant step
    /// (an untouched trailing block, a plane of a transpose, a run of a broadcast) become one, so the CPU backend copies
    /// longer runs and the GPU backend stays within its rank limit. Element order and offsets are unchanged.
    /// </summary>
    public RemapPlan Coalesced() => _coalesced ??= BuildCoalesced();

    private RemapPlan BuildCoalesced()
    {
        if (OutputSize == 0 || _axes.Length < 2) return this;
        var merged = new List<RemapAxis> { _axes[0] };
        for (int a = 1; a < _axes.Length; a++)
        {
            var outer = merged[^1];
            if (TryMerge(outer, _axes[a], out var both)) merged[^1] = both;
            else merged.Add(_axes[a]);
        }
        return merged.Count == _axes.Length ? this : new RemapPlan(merged, Fill);
    }

    /// <summary>Input coordinates of an axis stay inside [0, InputSize): no border is ever consulted.</summary>
    private static bool Inside(RemapAxis axis, out long first, out long last)
    {
        first = axis.Start;
        last = axis.Start + (long)axis.Step * (axis.OutputSize - 1);
        return Math.Min(first, last) >= 0 && Math.Max(first, last) < axis.InputSize;
    }

    /// <summary>
    /// Outer axis o and inner axis n read offset(k) = o.Start·so + o.Step·so·(k / On) + n.Start·sn + n.Step·sn·(k mod On);
    /// that is one axis over k when o.Step·so = n.Step·sn·On (or o has one element) and the start lands on a multiple of sn.
    /// </summary>
    private static bool TryMerge(RemapAxis outer, RemapAxis inner, out RemapAxis merged)
    {
        merged = default;
        if (!Inside(outer, out _, out _) || !Inside(inner, out _, out _) || inner.InputStride == 0) return false;
        long outerBase = (long)outer.Start * outer.InputStride;
        if (outer.OutputSize != 1 && (long)outer.Step * outer.InputStride != (long)inner.Step * inner.InputStride * inner.OutputSize) return false;
        if (outerBase % inner.InputStride != 0) return false;
        long start = inner.Start + outerBase / inner.InputStride;
        long outputSize = (long)outer.OutputSize * inner.OutputSize;
        long last = start + (long)inner.Step * (outputSize - 1);
        long end = Math.Max(start, last) + 1;
        if (end > int.MaxValue || start > int.MaxValue) return false;
        merged = new RemapAxis((int)outputSize, (int)end, inner.InputStride, (int)start, inner.Step, BorderMode.Constant);
        return true;
    }

    public override string ToString() => $"RemapPlan[{string.Join(", ", _axes)}] fill {Fill}";
}
