using NanoCam.Ops;

namespace NanoCam.Onnx.Operators;

/// <summary>Where(condition, x, y): x where the condition holds, else y, all three broadcast (on the tape; gradients to x and y).</summary>
internal static class Where
{
    public static readonly OnnxOperator Operator = OnnxOperator.Single("Where", c =>
        OnnxOperatorContext.Result(c.Tape.Where(c.Float(0), c.Float(1), c.Float(2)), c.Input(1).ElementType));
}
