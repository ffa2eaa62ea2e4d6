using NanoCam.Autodiff;
using NanoCam.Elementwise;
using NanoCam.Ops;

namespace NanoCam.Onnx.Operators;

/// <summary>
/// The Reduce family, each an element-wise map, a reduction over the axes (kept as size 1 until the end) and a map
/// after it: ReduceSum Σx, ReduceMean Σx/n, ReduceMax, ReduceMin, ReduceProd Πx, ReduceSumSquare Σx², ReduceL1 Σ|x|,
/// ReduceL2 √(Σx²), ReduceLogSum ln Σx, ReduceLogSumExp ln Σe^x. The axes are an attribute before opset 13 (ReduceSum)
/// or 18 (the others) and a known input from then on; none, or an empty list, means every axis — unless
/// noop_with_empty_axes, where nothing is reduced and only the maps apply (ReduceSumSquare acts as Square). An empty
/// reduced axis gives the reduction's identity: 0 for a sum, 1 for a product, −∞ for a maximum, +∞ for a minimum.
/// </summary>
internal static class Reductions
{
    public static readonly OnnxOperator ReduceSum = Of("ReduceSum", axesInputSince: 13, (tape, x, axes) => Over(tape, ReduceKind.Sum, x, axes));
    public static readonly OnnxOperator ReduceMean = Of("ReduceMean", 18, (tape, x, axes) => axes is null ? x : tape.ReduceMean(x, axes, keepDims: true));
    public static readonly OnnxOperator ReduceMax = Of("ReduceMax", 18, (tape, x, axes) => Over(tape, ReduceKind.Max, x, axes));
    public static readonly OnnxOperator ReduceMin = Of("ReduceMin", 18, (tape, x, axes) => Over(tape, ReduceKind.Min, x, axes));
    public static readonly OnnxOperator ReduceProd = Of("ReduceProd", 18, Product);
    public static readonly OnnxOperator ReduceSumSquare = Of("ReduceSumSquare", 18, (tape, x, axes) => Over(tape, ReduceKind.Sum, tape.Unary(x, new Square()), axes));
    public static readonly OnnxOperator ReduceL1 = Of("ReduceL1", 18, (tape, x, axes) => Over(tape, ReduceKind.Sum, tape.Unary(x, new Abs()), axes));
    public static readonly OnnxOperator ReduceL2 = Of("ReduceL2", 18, (tape, x, axes) => tape.Unary(Over(tape, ReduceKind.Sum, tape.Unary(x, new Square()), axes), new Sqrt()));
    public static readonly OnnxOperator ReduceLogSum = Of("ReduceLogSum", 18, (tape, x, axes) => tape.Unary(Over(tape, ReduceKind.Sum, x, axes), new Log()));
    public static readonly OnnxOperator ReduceLogSumExp = Of("ReduceLogSumExp", 18, LogSumExp);

    /// <summary>The reduction of x over <c>axes</c> (every index already in range), keeping them as size 1; null axes: no reduction.</summary>
    private delegate Tensor Reducer(Tape tape, Tensor x, int[]? axes);

    private static OnnxOperator Of(string opType, int axesInputSince, Reducer reduce) =>
        OnnxOperator.Single(opType, c => Run(c, axesInputSince, reduce));

    private static OnnxValue Run(OnnxOperatorContext c, int axesInputSince, Reducer reduce)
    {
        var x = c.Float(0);
        var type = c.Input(0).ElementType;
        var plan = c.TryRecall(out Plan recalled) ? recalled : c.Remember(PlanFor(c, axesInputSince, x.Shape));
        var axes = plan.Axes;

        var y = reduce(c.Tape, x, axes);
        // Σ, max, min and Π of integers are integers; a mean, root or logarithm is cut toward zero (NumPy's astype).
        if (type != OnnxDataType.Bool && !type.IsFloatingPoint()) y = c.Tape.Unary(y, new Truncate());
        if (plan.Kept is { } kept) y = c.Tape.Reshape(y, kept);
        // The output is a tensor of its own, so it can be published under the node's output name.
        if (ReferenceEquals(y, x)) y = c.Tape.Reshape(x, x.Shape.Dims);
        return OnnxOperatorContext.Result(y, type);
    }

    /// <summary>Axes in [−rank, rank) made non-negative; a repeated axis is an error in the model.</summary>
    /// <summary>The axes reduced (null: none, the identity) and, without keepdims, the output's dimensions.</summary>
    private sealed record Plan(int[]? Axes, int[]? Kept);

    // A method of its own: its lambdas' closure would otherwise be allocated on every call of Run.
    private static Plan PlanFor(OnnxOperatorContext c, int axesInputSince, Shape shape)
    {
        int rank = shape.Rank;
        var listed = c.Opset < axesInputSince ? c.Node.Ints("axes") : c.OptionalKnownIntegers(1);
        bool noop = c.Node.Int("noop_with_empty_axes", 0) != 0;
        bool keep = c.Node.Int("keepdims", 1) != 0;
        int[]? reduced = listed is null or [] ? (noop ? null : Enumerable.Range(0, rank).ToArray()) : Normalize(c, listed, rank);
        return new Plan(reduced, keep || reduced is null ? null : Enumerable.Range(0, rank).Where(a => !reduced.Contains(a)).Select(a => shape[a]).ToArray());
    }

    private static int[] Normalize(OnnxOperatorContext c, long[] listed, int rank)
    {
        var axes = new int[listed.Length];
        for (int i = 0; i < listed.Length; i++)
        {
            long a = listed[i] < 0 ? listed[i] + rank : listed[i];
            if (a < 0 || a >= rank) throw c.Invalid($"axis {listed[i]} is out of range for rank {rank}");
            if (axes.AsSpan(0, i).Contains((int)a)) throw c.Invalid($"axis {listed[i]} is listed twice");
            axes[i] = (int)a;
        }
        return axes;
    }

    /// <summary>Sum, max or min over the axes, kept as size 1 (none: x itself).</summary>
    private static Tensor Over(Tape tape, ReduceKind kind, Tensor x, int[]? axes) =>
        axes is null ? x : tape.Reduce(kind, x, axes, keepDims: true);

    /// <summary>
    /// Π over each axis as a pairwise tree of products: an odd count is padded with a 1, then the first half times the
    /// second, until one element is left (⌈log₂ n⌉ multiplications deep, and Mul's backward gives ∂Π/∂x_j = Π_{i≠j} x_i
    /// exactly, zeros included). An empty axis gives 1 (Σ over nothing, plus 1).
    /// </summary>
    private static Tensor Product(Tape tape, Tensor x, int[]? axes)
    {
        foreach (int axis in axes ?? [])
        {
            int n = x.Shape[axis];
            if (n == 0)
            {
                x = tape.Unary(tape.Reduce(ReduceKind.Sum, x, [axis], keepDims: true), new Shift(1f));
                continue;
            }
            int rank = x.Shape.Rank;
            while (n > 1)
            {
                if (n % 2 == 1)
                {
                    var end = new int[rank];
                    end[axis] = 1;
                    x = tape.Pad(x, new int[rank], end, BorderMode.Constant, 1f);
                    n++;
                }
                var (first, step, count) = Slice.Whole(x.Shape.ToArray());
                count[axis] = n / 2;
                var lower = tape.Slice(x, first, step, count);
                first[axis] = n / 2;
                x = tape.Mul(lower, tape.Slice(x, first, step, count));
                n /= 2;
            }
        }
        return x;
    }

    /// <summary>
    /// ln Σ e^x = m + ln Σ e^(x − m) with m the maximum over the axes, so no e^x overflows or underflows to a zero sum.
    /// Where m is ±∞ or NaN (all −∞, an infinite input, an empty axis) it is replaced by 0, so x − m is not ∞ − ∞ and the
    /// result is the unshifted formula's: −∞ for an empty or all −∞ slice, +∞ when +∞ is present. m's gradient cancels
    /// (1 − Σ softmax = 0), so the shift leaves ∂/∂x = softmax(x).
    /// </summary>
    private static Tensor LogSumExp(Tape tape, Tensor x, int[]? axes)
    {
        var maximum = Over(tape, ReduceKind.Max, x, axes);
        // [m finite] = [0·m = 0·m] (0·±∞ and 0·NaN are NaN); where it is 0 the mask itself supplies the 0 for the shift.
        var timesZero = tape.Unary(maximum, new Scale(0f));
        var finite = tape.Binary(timesZero, timesZero, new Equal());
        var shift = tape.Where(finite, maximum, finite);
        var sum = Over(tape, ReduceKind.Sum, tape.Unary(tape.Sub(x, shift), new Exp()), axes);
        return tape.Add(shift, tape.Unary(sum, new Log()));
    }
}
