using NanoCam.Ops;

namespace NanoCam.Onnx.Operators;

/// <summary>
/// Slice: starts, ends, axes and steps (attributes before opset 10, known inputs from 10 on), each index clamped as
/// ONNX specifies — to [0, dim] for a positive step and to [−1, dim − 1] for a negative one, after adding dim to a
/// negative index — so INT64_MAX means "to the end".
/// </summary>
internal static class Slice
{
    public static readonly OnnxOperator Operator = OnnxOperator.Single("Slice", Run);

    private static OnnxValue Run(OnnxOperatorContext c)
    {
        var x = c.Input(0);
        if (c.TryRecall(out SliceBox box)) return Apply(c, box);
        int rank = x.Dims.Length;
        long[] starts, ends;
        long[]? axes, steps;
        if (c.Opset < 10)
        {
            starts = c.Node.Ints("starts") ?? throw c.Invalid("starts is required");
            ends = c.Node.Ints("ends") ?? throw c.Invalid("ends is required");
            axes = c.Node.Ints("axes");
            steps = null;
        }
        else
        {
            starts = c.KnownIntegers(1);
            ends = c.KnownIntegers(2);
            axes = c.OptionalKnownIntegers(3);
            steps = c.OptionalKnownIntegers(4);
        }
        if (ends.Length != starts.Length || (axes is not null && axes.Length != starts.Length) || (steps is not null && steps.Length != starts.Length))
            throw c.Invalid($"starts, ends, axes and steps differ in length ({starts.Length}, {ends.Length}, {axes?.Length}, {steps?.Length})");
        var (first, step, count) = Whole(x.Dims);
        var seen = new HashSet<int>();
        for (int i = 0; i < starts.Length; i++)
        {
            long a = axes is null ? i : axes[i] < 0 ? axes[i] + rank : axes[i];
            if (a < 0 || a >= rank || !seen.Add((int)a)) throw c.Invalid($"axis {axes?[i] ?? i} is out of range or repeated for {x}");
            long s = steps?[i] ?? 1;
            if (s == 0) throw c.Invalid("a step of 0");
            var (start, n) = Resolve(starts[i], ends[i], s, x.Dims[a]);
            (first[a], step[a], count[a]) = ((int)start, (int)s, n);
        }
        return Apply(c, c.Remember(new SliceBox(first, step, count, first.All(f => f == 0) && step.All(s => s == 1) && count.SequenceEqual(x.Dims))));
    }

    /// <summary>The slice on the tape; one that keeps every element in place is a view of the input (like Identity), not a copy.</summary>
    private static OnnxValue Apply(OnnxOperatorContext c, SliceBox box)
    {
        var x = c.Float(0);
        var y = box.Whole ? c.Tape.Reshape(x, x.Shape.Dims) : c.Tape.Slice(x, box.First, box.Step, box.Count);
        return OnnxOperatorContext.Result(y, c.Input(0).ElementType);
    }

    private sealed record SliceBox(int[] First, int[] Step, int[] Count, bool Whole);

    /// <summary>Every axis whole: first 0, step 1, count dim.</summary>
    public static (int[] First, int[] Step, int[] Count) Whole(int[] dims) =>
        (new int[dims.Length], Enumerable.Repeat(1, dims.Length).ToArray(), (int[])dims.Clone());

    /// <summary>The first index and the number of elements of start:end:step on an axis of size <paramref name="dim"/>.</summary>
    public static (long Start, int Count) Resolve(long start, long end, long step, int dim)
    {
        if (start < 0) start += dim;
        if (end < 0) end += dim;
        if (step > 0)
        {
            start = Math.Clamp(start, 0, dim);
            end = Math.Clamp(end, 0, dim);
        }
        else
        {
            start = Math.Clamp(start, -1, dim - 1);
            end = Math.Clamp(end, -1, dim - 1);
        }
        long count = step > 0 ? (end - start + step - 1) / step : (start - end + (-step) - 1) / (-step);
        count = Math.Max(0, count);
        // An empty slice reads nothing: its start only has to be a valid index for the tape op.
        return (count == 0 ? 0 : start, (int)count);
    }
}
