using NanoCam.Elementwise;
using NanoCam.Ops;

namespace NanoCam.Onnx.Operators;

/// <summary>Gemm: Y = α·op(A)·op(B) + β·C, C broadcast to [M, N].</summary>
internal static class Gemm
{
    public static readonly OnnxOperator Operator = OnnxOperator.Single("Gemm", Run);

    private static OnnxValue Run(OnnxOperatorContext c)
    {
        var tape = c.Tape;
        var node = c.Node;
        var y = tape.MatMul(c.Float(0), c.Float(1), node.Int("transA", 0) != 0, node.Int("transB", 0) != 0, node.Float("alpha", 1f));
        float beta = node.Float("beta", 1f);
        if (c.OptionalFloat(2) is { } bias && beta != 0f)
            y = tape.Add(y, beta == 1f ? bias : tape.Unary(bias, new Scale(beta)));
        return OnnxOperatorContext.Result(y);
    }
}
