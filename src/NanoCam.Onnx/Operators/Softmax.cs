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
        if (c.ShapeOnly) return OnnxOperatorContext.Result(c.Tape.LogSoftmax(x, axis, coerce));
        // log-softmax(x) = log-softmax(x − m) for any constant m. Subtracting the row maximum first keeps large inputs
        // exact: the kernel forms max + log Σ e^{x−max}, which rounds at the size of max (1e4 → 1e-3 steps in float32).
        // m is a constant, so the gradient is unchanged (log-softmax's gradient along a constant shift is zero).
        var shifted = c.Tape.Sub(x, c.Tape.Kernels.Stage(RowMaximum(x, axis, coerce)));
        return OnnxOperatorContext.Result(c.Tape.LogSoftmax(shifted, axis, coerce));
    }

    /// <summary>The maximum over the softmax axis (or over every axis from it, when coerced), keeping those axes as size 1.</summary>
    private static Tensor RowMaximum(Tensor x, int axis, bool coerce)
    {
        var s = x.Shape;
        if (s.Rank == 0) return Tensor.Scalar(x.ToArray()[0]);
        int a = s.Axis(axis);
        int outer = s.Product(0, a), classes = coerce ? s.Product(a, s.Rank) : s[a], inner = coerce ? 1 : s.Product(a + 1, s.Rank);
        var values = x.ToArray();
        var max = new float[outer * inner];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                float m = float.NegativeInfinity;
                for (int k = 0; k < classes; k++) m = MathF.Max(m, values[(o * classes + k) * inner + i]);
                max[o * inner + i] = float.IsFinite(m) ? m : 0f;
            }
        var dims = s.ToArray();
        for (int d = a; d < (coerce ? s.Rank : a + 1); d++) dims[d] = 1;
        return Tensor.FromArray(max, dims);
    }
}
