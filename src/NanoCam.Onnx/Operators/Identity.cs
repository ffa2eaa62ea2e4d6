using NanoCam.Autodiff;
using NanoCam.Ops;

namespace NanoCam.Onnx.Operators;

/// <summary>Identity: the input unchanged (tensors, host values, sequences and optionals alike).</summary>
internal static class Identity
{
    public static readonly OnnxOperator Operator = OnnxOperator.Single("Identity", c => Pass(c.Tape, c.Input(0)));

    /// <summary>A tensor passes as a view node on the tape (so it can be published under the output's own name); anything else as it is.</summary>
    public static OnnxValue Pass(Tape tape, OnnxValue v) =>
        v.Tensor is { } t ? OnnxValue.FromTensor(tape.Reshape(t, t.Shape.Dims), v.ElementType) : v;
}
