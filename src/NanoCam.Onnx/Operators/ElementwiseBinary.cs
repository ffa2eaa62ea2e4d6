using NanoCam.Elementwise;
using NanoCam.Ops;

namespace NanoCam.Onnx.Operators;

/// <summary>
/// Broadcasting element-wise operators with two inputs that are one operator struct each: Pow, PRelu, Mod, the
/// comparisons (BOOL results; Equal also on strings) and the logical operators, and Not.
/// </summary>
internal static class ElementwiseBinary
{
    /// <summary>Pow: the result has the base's type (INT32 ^ FLOAT is INT32, truncated as ONNX's reference does).</summary>
    public static readonly OnnxOperator Pow = OnnxOperator.Single("Pow", c => Truncated(c, c.Tape.Binary(c.Float(0), c.Float(1), new Pow()), c.Input(0).ElementType));
    public static readonly OnnxOperator PRelu = Of("PRelu", new PRelu(), sameType: true);
    public static readonly OnnxOperator Mod = OnnxOperator.Single("Mod", c => c.Node.Int("fmod", 0) != 0 || c.Input(0).ElementType.IsFloatingPoint()
        ? Apply(c, new Mod(), c.Input(0).ElementType)
        : throw c.Unsupported("integer Mod with fmod = 0 (Python's sign rule) is not supported"));
    public static readonly OnnxOperator Equal = OnnxOperator.Single("Equal", RunEqual);
    public static readonly OnnxOperator Less = Of("Less", new Less(), sameType: false);
    public static readonly OnnxOperator Greater = Of("Greater", new Greater(), sameType: false);
    public static readonly OnnxOperator LessOrEqual = Of("LessOrEqual", new LessOrEqual(), sameType: false);
    public static readonly OnnxOperator GreaterOrEqual = Of("GreaterOrEqual", new GreaterOrEqual(), sameType: false);
    public static readonly OnnxOperator And = Of("And", new And(), sameType: false);
    public static readonly OnnxOperator Or = Of("Or", new Or(), sameType: false);
    public static readonly OnnxOperator Xor = Of("Xor", new Xor(), sameType: false);
    public static readonly OnnxOperator Not = OnnxOperator.Single("Not", c =>
        OnnxOperatorContext.Result(c.Tape.Binary(c.Float(0), c.Tape.Kernels.Stage(Tensor.Scalar(0f)), new Equal()), OnnxDataType.Bool));

    private static OnnxOperator Of<TOp>(string opType, TOp op, bool sameType) where TOp : struct, IBinaryFunction =>
        OnnxOperator.Single(opType, c => Apply(c, op, sameType ? c.Input(0).ElementType : OnnxDataType.Bool));

    private static OnnxValue Apply<TOp>(OnnxOperatorContext c, TOp op, OnnxDataType resultType) where TOp : struct, IBinaryFunction =>
        OnnxOperatorContext.Result(c.Tape.Binary(c.Float(0), c.Float(1), op), resultType);

    /// <summary>A float result held as an integer type is truncated toward zero, as a cast to that type would.</summary>
    private static OnnxValue Truncated(OnnxOperatorContext c, Tensor y, OnnxDataType type) =>
        OnnxOperatorContext.Result(type.IsInteger() ? c.Tape.Unary(y, new Truncate()) : y, type);

    /// <summary>Equal: numbers on the tape; strings (known values only) on the host.</summary>
    private static OnnxValue RunEqual(OnnxOperatorContext c)
    {
        var (a, b) = (c.Input(0), c.Input(1));
        if (a.Strings is null && b.Strings is null) return Apply(c, new Equal(), OnnxDataType.Bool);
        if (a.Strings is null || b.Strings is null) throw c.Invalid($"Equal compares {a} with {b}");
        var dims = TapeOps.BroadcastShape(new Shape(a.Dims), new Shape(b.Dims), "equal");
        var result = new long[new Shape(dims).Size];
        for (int i = 0; i < result.Length; i++)
            result[i] = string.Equals(a.Strings[HostIntegers.Offset(i, dims, a.Dims)], b.Strings[HostIntegers.Offset(i, dims, b.Dims)], StringComparison.Ordinal) ? 1 : 0;
        return OnnxValue.FromIntegers(result, dims, OnnxDataType.Bool);
    }
}
