using NanoCam.Ops;

namespace NanoCam.Onnx.Operators;

/// <summary>
/// Add, Sub, Mul, Div with NumPy broadcasting: on the tape for tensors; on the host, in 64-bit integer arithmetic, for
/// known integers (shape arithmetic such as batch·channels), where Div truncates toward zero as ONNX's integer Div does.
/// </summary>
internal static class Arithmetic
{
    public static readonly OnnxOperator Add = Binary("Add", BinaryOp.Add, (x, y) => x + y);
    public static readonly OnnxOperator Sub = Binary("Sub", BinaryOp.Sub, (x, y) => x - y);
    public static readonly OnnxOperator Mul = Binary("Mul", BinaryOp.Mul, (x, y) => x * y);
    public static readonly OnnxOperator Div = Binary("Div", BinaryOp.Div,
        (x, y) => y == 0 ? throw new DivideByZeroException("integer division by zero") : x / y);

    private static OnnxOperator Binary(string opType, BinaryOp op, Func<long, long, long> integer) => OnnxOperator.Single(opType, c =>
    {
        var (a, b) = (c.Input(0), c.Input(1));
        if (a.Integers is not null && b.Integers is not null) return HostIntegers.Broadcast(a, b, integer, opType, a.ElementType);
        return OnnxOperatorContext.Result(c.Tape.Binary(op, c.Float(0), c.Float(1)), a.ElementType);
    });
}

/// <summary>Element-wise arithmetic on host integers with NumPy broadcasting (folded shape arithmetic).</summary>
internal static class HostIntegers
{
    public static OnnxValue Broadcast(OnnxValue a, OnnxValue b, Func<long, long, long> f, string what, OnnxDataType resultType)
    {
        var dims = TapeOps.BroadcastShape(new Shape(a.Dims), new Shape(b.Dims), what);
        var result = new long[new Shape(dims).Size];
        var (av, bv) = (a.Integers!, b.Integers!);
        for (int i = 0; i < result.Length; i++)
            result[i] = f(av[Offset(i, dims, a.Dims)], bv[Offset(i, dims, b.Dims)]);
        return OnnxValue.FromIntegers(result, dims, resultType);
    }

    /// <summary>The flat index into an operand of shape <paramref name="operand"/> broadcast to <paramref name="dims"/>.</summary>
    public static int Offset(int flat, int[] dims, int[] operand)
    {
        int offset = 0, stride = 1;
        for (int i = dims.Length - 1, j = operand.Length - 1; j >= 0; i--, j--)
        {
            int coordinate = flat % dims[i];
            flat /= dims[i];
            if (operand[j] != 1) offset += coordinate * stride;
            stride *= operand[j];
        }
        return offset;
    }
}
