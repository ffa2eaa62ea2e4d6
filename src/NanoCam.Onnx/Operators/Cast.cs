using NanoCam.Elementwise;
using NanoCam.Ops;

namespace NanoCam.Onnx.Operators;

/// <summary>
/// Cast to the element type of the 'to' attribute. On the tape a float value is rounded to the target's precision
/// (FLOAT16, BFLOAT16, the 8- and 4-bit floats, with saturate from opset 19) or truncated toward zero for an integer
/// type; known host integers convert on the host with the target's width. The derivative passes straight through.
/// </summary>
internal static class Cast
{
    public static readonly OnnxOperator Operator = OnnxOperator.Single("Cast", c => To(c, (OnnxDataType)c.Node.Int("to", 0)));

    /// <summary>CastLike (opset 15): a Cast to the element type of the second input.</summary>
    public static readonly OnnxOperator Like = OnnxOperator.Single("CastLike", c => To(c, c.Input(1).ElementType));

    private static OnnxValue To(OnnxOperatorContext c, OnnxDataType to)
    {
        var x = c.Input(0);
        bool saturate = c.Opset < 19 || c.Node.Int("saturate", 1) != 0;
        if (to is OnnxDataType.String or OnnxDataType.Undefined or OnnxDataType.Complex64 or OnnxDataType.Complex128)
            throw c.Unsupported($"casting to {to.Spelling()}");
        if (x.Strings is not null) throw c.Unsupported("casting from STRING");
        if (x.Integers is { } integers && to.IsInteger())
            return OnnxValue.FromIntegers(integers.Select(v => Wrap(v, to)).ToArray(), x.Dims, to);
        var tape = c.Tape;
        var tensor = c.Float(0);
        var result = to switch
        {
            OnnxDataType.Float or OnnxDataType.Double => tape.Reshape(tensor, tensor.Shape.Dims),
            OnnxDataType.Float16 => tape.Unary(tensor, new RoundToHalf()),
            OnnxDataType.BFloat16 => tape.Unary(tensor, new RoundToBFloat16()),
            OnnxDataType.Bool => tape.Binary(tape.Binary(tensor, tape.Kernels.Stage(Tensor.Scalar(0f)), new Equal()), tape.Kernels.Stage(Tensor.Scalar(0f)), new Equal()),
            _ when to.IsInteger() => x.ElementType.IsInteger() ? tape.Reshape(tensor, tensor.Shape.Dims) : tape.Unary(tensor, new Truncate()),
            _ => tape.Unary(tensor, new RoundToMinifloat(MinifloatFormat.Of(to), saturate)),
        };
        return OnnxOperatorContext.Result(result, to);
    }

    /// <summary>An integer as the target type holds it (two's complement wrap, as C and NumPy casts do).</summary>
    private static long Wrap(long v, OnnxDataType to) => to switch
    {
        OnnxDataType.Bool => v != 0 ? 1 : 0,
        OnnxDataType.Int8 => (sbyte)v,
        OnnxDataType.UInt8 => (byte)v,
        OnnxDataType.Int16 => (short)v,
        OnnxDataType.UInt16 => (ushort)v,
        OnnxDataType.Int32 => (int)v,
        OnnxDataType.UInt32 => (uint)v,
        _ => v,
    };
}
