using NanoCam.Autodiff;
using NanoCam.Elementwise;

namespace NanoCam.Ops;

public static partial class TapeOps
{
    /// <summary>
    /// y = op.Value(x) element by element, for any operator struct of NanoCam.Elementwise
    /// (<c>tape.Unary(x, new Gelu())</c>, <c>tape.Unary(x, new Clip(0, 6))</c>); the node's kind is op.Name.
    /// </summary>
    public static Tensor Unary<TOp>(this Tape tape, Tensor x, TOp op) where TOp : struct, IUnaryFunction =>
        tape.Next<UnaryNode<TOp>>().Forward(tape, x, op);
}

/// <summary>y = f(x) through the backend's generic unary kernel; backward: dx += f'(x, y) · dy.</summary>
public sealed class UnaryNode<TOp> : Node where TOp : struct, IUnaryFunction
{
    public override string Kind => Op.Name;
    public TOp Op { get; private set; }
    public Tensor Input => Inputs[0];

    internal Tensor Forward(Tape tape, Tensor input, TOp op)
    {
        Op = op;
        SetInputs(input);
        var output = EnsureOutput(tape, input.Shape.Dims);
        tape.Kernels.UnaryForward(output, input, op);
        return output;
    }

    public override void Backward(IKernels kernels)
    {
        if (GradOf(Input) is { } dInput) kernels.UnaryBackward(dInput, Output.Grad!, Input, Output, Op);
    }

    /// <summary>
    /// Taped, for the functions whose derivative is itself a taped op: Relu (g·sign(y)), Scale (k·g), Shift (g), Neg (−g),
    /// Log (g / x), Exp (g·y), Square (2x·g), Sqrt (g / 2y), PowScalar (p·x^(p−1)·g), Sign and the comparisons' kin (0).
    /// </summary>
    public override Tensor?[] BackwardTaped(Tape tape, Tensor gradOutput)
    {
        if (!WantsGradient(tape, Input)) return TapedGradients(null);
        var g = gradOutput;
        // typeof tests on the struct parameter: each is a constant per instantiation, so no operator is boxed.
        var t = typeof(TOp);
        var dInput =
            t == typeof(Relu) ? tape.Mul(g, tape.Unary(Output, new Sign()))
            : t == typeof(Scale) ? tape.Unary(g, new Scale(((Scale)(object)Op).Factor))
            : t == typeof(Shift) ? g
            : t == typeof(Neg) ? tape.Unary(g, new Neg())
            : t == typeof(Log) ? tape.Div(g, Input)
            : t == typeof(Exp) ? tape.Mul(g, Output)
            : t == typeof(Square) ? tape.Mul(g, tape.Unary(Input, new Scale(2f)))
            : t == typeof(Sqrt) ? tape.Div(tape.Unary(g, new Scale(0.5f)), Output)
            : t == typeof(PowScalar) ? PowScalarGradient(tape, g, ((PowScalar)(object)Op).Exponent)
            : throw new NotSupportedException($"second-order gradients: the element-wise function {Kind} has no taped backward rule");
        return TapedGradients(dInput);
    }

    // ∂(x^p)/∂x · g = p·x^(p−1)·g (zero for p = 0).
    private Tensor PowScalarGradient(Tape tape, Tensor g, float exponent) =>
        exponent == 0f ? tape.Unary(g, new Scale(0f))
        : tape.Mul(g, tape.Unary(tape.Unary(Input, new PowScalar(exponent - 1f)), new Scale(exponent)));
}
