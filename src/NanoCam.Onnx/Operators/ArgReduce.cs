using NanoCam.Ops;

namespace NanoCam.Onnx.Operators;

/// <summary>
/// ArgMax and ArgMin: the INT64 index of the largest (smallest) element along axis (default 0), the first on a tie or,
/// with select_last_index (opset ≥ 12), the last; keepdims (default 1) keeps the axis as size 1. Indices are computed on
/// the tape as exact floats and carry no gradient.
/// </summary>
internal static class ArgReduce
{
    public static readonly OnnxOperator ArgMax = OnnxOperator.Single("ArgMax", c => Run(c, max: true));
    public static readonly OnnxOperator ArgMin = OnnxOperator.Single("ArgMin", c => Run(c, max: false));

    private static OnnxValue Run(OnnxOperatorContext c, bool max)
    {
        var x = c.Float(0);
        int rank = x.Shape.Rank;
        long axis = c.Node.Int("axis", 0);
        if (axis < -rank || axis >= rank) throw c.Invalid($"axis {axis} is out of range for {c.Input(0)}");
        bool keepDims = c.Node.Int("keepdims", 1) != 0;
        bool selectLast = c.Node.Int("select_last_index", 0) != 0;
        var indices = max ? c.Tape.ArgMax(x, (int)axis, keepDims, selectLast) : c.Tape.ArgMin(x, (int)axis, keepDims, selectLast);
        return OnnxOperatorContext.Result(indices, OnnxDataType.Int64);
    }
}
