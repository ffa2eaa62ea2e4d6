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
}
