using NanoCam.Autodiff;
using NanoCam.Elementwise;

namespace NanoCam.Ops;

public static partial class TapeOps
{
    /// <summary>
    /// y = op.Value(a, b) with NumPy broadcasting, for any operator struct of NanoCam.Elementwise
    /// (<c>tape.Binary(a, b, new Pow())</c>, <c>tape.Binary(x, slope, new PRelu())</c>); the node's kind is op.Name.
    /// </summary>
    public static Tensor Binary<TOp>(this Tape tape, Tensor a, Tensor b, TOp op) where TOp : struct, IBinaryFunction =>
        tape.Next<BinaryFunctionNode<TOp>>().Forward(tape, a, b, op);
}

/// <summary>
/// y = f(a, b) with broadcasting through the backend's generic binary kernel; backward: each operand receives
/// ∂f/∂operand · dy summed over the axes it was broadcast along.
/// </summary>
public sealed class BinaryFunctionNode<TOp> : BroadcastBinaryNode<TOp> where TOp : struct, IBinaryFunction
{
    public override string Kind => Op.Name;

    internal Tensor Forward(Tape tape, Tensor a, Tensor b, TOp op)
    {
        var output = Record(tape, op, a, b, static op => op.Name);
        tape.Kernels.BinaryForward(output, a, b, op);
        return output;
    }

    public override void Backward(IKernels kernels)
    {
        var dA = GradOf(A);
        var dB = GradOf(B);
        if (dA is not null || dB is not null) kernels.BinaryBackward(dA, dB, Output.Grad!, A, B, Output, Op);
    }
}
