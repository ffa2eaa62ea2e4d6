using NanoCam.Autodiff;

namespace NanoCam.Onnx;

/// <summary>
/// A squeeze-excitation's Mul(scale, x) in a no-grad pass, written into x's own buffer: the output is a view of x,
/// x ← scale ⊙ x with the [N, C, 1, 1] scale broadcast over each map. The plan runs it only where nothing reads x after
/// it (x's other reader is the pool that made the scale, earlier) and the tape does not observe x. It keeps nothing
/// for backward, and a no-grad tape never runs one.
/// </summary>
internal sealed class InferenceScaleNode : Node
{
    public override string Kind => "Mul";

    /// <param name="x">The map, overwritten with the product.</param>
    /// <param name="scale">[N, C, 1, 1] (or what broadcasts to x).</param>
    /// <param name="scaleFirst">Whether the graph's Mul has the scale as its first operand (the product is the same).</param>
    public Tensor Forward(Tape tape, Tensor x, Tensor scale, bool scaleFirst)
    {
        if (scaleFirst) SetInputs(scale, x);
        else SetInputs(x, scale);
        var output = EnsureViewOutput(tape, x, x.Shape.Dims);
        // Element-wise with the output on x's own elements: each element is read before it is written.
        if (scaleFirst) tape.Kernels.BinaryForward(BinaryOp.Mul, output, scale, x);
        else tape.Kernels.BinaryForward(BinaryOp.Mul, output, x, scale);
        return output;
    }

    public override void Backward(IKernels kernels) =>
        throw new InvalidOperationException("an in-place scale runs only in no-grad passes and has no backward rule");
}
