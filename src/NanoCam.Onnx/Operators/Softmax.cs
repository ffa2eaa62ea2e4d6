using NanoCam.Ops;

namespace NanoCam.Onnx.Operators;

/// <summary>
/// Softmax and LogSoftmax. Before opset 13 the input is coerced to 2-D at axis (default 1); from 13 on the softmax runs
/// along one axis (default −1).
/// </summary>
internal static class Softmax
{
    public static readonly OnnxOperator SoftmaxOperator = OnnxOperator.Single("Softmax", c => Run(c, logarithm: false)) with { MixesBatch = AlongBatch };
    public static readonly OnnxOperator LogSoftmaxOperator = OnnxOperator.Single("LogSoftmax", c => Run(c, logarithm: true)) with { MixesBatch = AlongBatch };

    private static (int Axis, bool Coerce) Axis(OnnxNode node) =>
        node.Opset < 13 ? ((int)node.Int("axis", 1), true) : ((int)node.Int("axis", -1), false);

    /// <summary>Normalizing along axis 0 (or, coerced, over every axis from 0) couples the images of a batch.</summary>
    private static bool AlongBatch(OnnxNode node, int rank)
    {
        var (axis, _) = Axis(node);
        return (axis < 0 ? axis + rank : axis) == 0;
    }

    private static OnnxValue Run(OnnxOperatorContext c, bool logarithm)
    {
        var x = c.Float(0);
        var (axis, coerce) = Axis(c.Node);
        if (!logarithm) return OnnxOperatorContext.Result(c.Tape.Softmax(x, axis, coerce));
        // log-softmax(x) = log-softmax(x − m) for any m, so x − max(x) gives the same function and, since log-softmax
        // ignores a shift along the softmax axis, the same gradient. Subtracting the maximum first keeps large inputs
        // exact: the kernel forms max + log Σ e^{x−max}, which rounds at the size of max (1e4 → 1e-3 steps in float32).
        var tape = c.Tape;
        int rank = x.Shape.Rank, a = rank == 0 ? 0 : x.Shape.Axis(axis);
        int[] axes = coerce ? Enumerable.Range(a, rank - a).ToArray() : [a];
        var shifted = rank == 0 ? x : tape.Sub(x, tape.Reduce(ReduceKind.Max, x, axes, keepDims: true));
        return OnnxOperatorContext.Result(tape.LogSoftmax(shifted, axis, coerce));
    }
}
