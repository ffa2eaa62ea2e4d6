using NanoCam.Autodiff;
using NanoCam.Ops;

namespace NanoCam.Onnx.Operators;

/// <summary>The operators that only change a tensor's shape: Reshape, Flatten, Squeeze, Unsqueeze (views: no copy).</summary>
internal static class Reshaping
{
    public static readonly OnnxOperator Reshape = OnnxOperator.Single("Reshape", c => Recalled(c) ?? Remembered(c, RunReshape(c)));
    public static readonly OnnxOperator Flatten = OnnxOperator.Single("Flatten", c => Recalled(c) ?? Remembered(c, RunFlatten(c)));
    public static readonly OnnxOperator Squeeze = OnnxOperator.Single("Squeeze", c => Recalled(c) ?? Remembered(c, RunSqueeze(c)));
    public static readonly OnnxOperator Unsqueeze = OnnxOperator.Single("Unsqueeze", c => Recalled(c) ?? Remembered(c, RunUnsqueeze(c)));

    /// <summary>A tensor reshaped to the dimensions worked out for these input shapes on an earlier pass; null when there are none.</summary>
    private static OnnxValue? Recalled(OnnxOperatorContext c) =>
        c.Input(0) is { Tensor: { } t } x && c.TryRecall(out int[] dims) ? OnnxValue.FromTensor(c.Tape.Reshape(t, dims), x.ElementType) : null;

    /// <summary>Keeps the dimensions of a tensor result for the next pass (see <see cref="Recalled"/>).</summary>
    private static OnnxValue Remembered(OnnxOperatorContext c, OnnxValue y)
    {
        if (c.Input(0).Tensor is not null && y.Tensor is not null) c.Remember(y.Dims);
        return y;
    }

    /// <summary>The same elements with new dimensions: a view on the tape, or relabelled host values.</summary>
    public static OnnxValue Reshaped(Tape tape, OnnxValue x, int[] dims) =>
        x.Tensor is { } t ? OnnxValue.FromTensor(tape.Reshape(t, dims), x.ElementType)
        : x.Integers is { } ints ? OnnxValue.FromIntegers(ints, dims, x.ElementType)
        : x.Strings is { } strings ? OnnxValue.FromStrings(strings, dims)
        : throw new ArgumentException($"cannot reshape {x}");

    /// <summary>Flatten: [d0 … d(axis−1) | d(axis) …] → [product, product].</summary>
    private static OnnxValue RunFlatten(OnnxOperatorContext c)
    {
        var x = c.Input(0);
        int rank = x.Dims.Length;
        int axis = (int)c.Node.Int("axis", 1);
        if (axis < 0) axis += rank;
        if (axis < 0 || axis > rank) throw c.Invalid($"axis {c.Node.Int("axis", 1)} is out of range for rank {rank}");
        var s = new Shape(x.Dims);
        return Reshaped(c.Tape, x, [s.Product(0, axis), s.Product(axis, rank)]);
    }

    /// <summary>Reshape: 0 copies the input's size on that axis (unless allowzero), −1 is inferred from the element count.</summary>
    private static OnnxValue RunReshape(OnnxOperatorContext c)
    {
        var x = c.Input(0);
        var requested = c.Opset < 5 ? c.Node.Ints("shape") ?? [] : c.KnownIntegers(1);
        bool allowZero = c.Node.Int("allowzero", 0) != 0;
        var dims = new int[requested.Length];
        int inferred = -1;
        long known = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            long d = requested[i];
            if (d == 0 && !allowZero)
            {
                if (i >= x.Dims.Length) throw c.Invalid($"shape {Format(requested)} copies axis {i}, which input {x} lacks");
                d = x.Dims[i];
            }
            if (d == -1)
            {
                if (inferred >= 0) throw c.Invalid($"shape {Format(requested)} has more than one -1");
                inferred = i;
                continue;
            }
            if (d < 0 || d > int.MaxValue) throw c.Invalid($"shape {Format(requested)} has an invalid size {d}");
            dims[i] = (int)d;
            known *= d;
        }
        if (inferred >= 0)
        {
            if (known == 0 || x.Size % known != 0) throw c.Invalid($"cannot reshape {x} to {Format(requested)}");
            dims[inferred] = (int)(x.Size / known);
        }
        return Reshaped(c.Tape, x, dims);
    }

    /// <summary>Unsqueeze: axes (attribute before opset 13, input from 13 on) index the output's rank.</summary>
    private static OnnxValue RunUnsqueeze(OnnxOperatorContext c)
    {
        var x = c.Input(0);
        var axes = c.Opset < 13 ? c.Node.Ints("axes") ?? [] : c.KnownIntegers(1);
        int rank = x.Dims.Length + axes.Length;
        var inserted = new HashSet<int>();
        foreach (var a in axes)
        {
            long axis = a < 0 ? a + rank : a;
            if (axis < 0 || axis >= rank || !inserted.Add((int)axis)) throw c.Invalid($"axes {Format(axes)} are out of range or repeated for an output of rank {rank}");
        }
        var dims = new int[rank];
        for (int i = 0, j = 0; i < rank; i++) dims[i] = inserted.Contains(i) ? 1 : x.Dims[j++];
        return Reshaped(c.Tape, x, dims);
    }

    /// <summary>Squeeze: drops the listed size-1 axes (all of them when none are listed).</summary>
    private static OnnxValue RunSqueeze(OnnxOperatorContext c)
    {
        var x = c.Input(0);
        var axes = c.Opset < 13 ? c.Node.Ints("axes") : c.OptionalKnownIntegers(1);
        int rank = x.Dims.Length;
        var dropped = new HashSet<int>();
        if (axes is null) dropped.UnionWith(Enumerable.Range(0, rank).Where(i => x.Dims[i] == 1));
        else
            foreach (var a in axes)
            {
                long axis = a < 0 ? a + rank : a;
                if (axis < 0 || axis >= rank) throw c.Invalid($"axis {a} is out of range for {x}");
                if (x.Dims[axis] != 1) throw c.Invalid($"axis {a} of {x} has size {x.Dims[axis]}, not 1");
                dropped.Add((int)axis);
            }
        return Reshaped(c.Tape, x, Enumerable.Range(0, rank).Where(i => !dropped.Contains(i)).Select(i => x.Dims[i]).ToArray());
    }

    public static string Format(long[] values) => "[" + string.Join(", ", values) + "]";
}
