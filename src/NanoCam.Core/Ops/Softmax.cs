using NanoCam.Autodiff;

namespace NanoCam.Ops;

public static partial class TapeOps
{
    /// <summary>
    /// Softmax along <paramref name="axis"/>: y_c = e^{x_c} / Σ_j e^{x_j}. With <paramref name="flattenFromAxis"/>
    /// (ONNX before opset 13) the input is seen as 2-D [prod(dims before axis), prod(dims from axis on)].
    /// </summary>
    public static Tensor Softmax(this Tape tape, Tensor input, int axis = -1, bool flattenFromAxis = false) =>
        tape.Next<SoftmaxNode>().Forward(tape, input, axis, flattenFromAxis, logarithm: false);

    /// <summary>Log-softmax along <paramref name="axis"/>: y_c = x_c − log Σ_j e^{x_j}.</summary>
    public static Tensor LogSoftmax(this Tape tape, Tensor input, int axis = -1, bool flattenFromAxis = false) =>
        tape.Next<SoftmaxNode>().Forward(tape, input, axis, flattenFromAxis, logarithm: true);
}

/// <summary>Softmax or log-softmax along one axis, seen as [outer, classes, inner].</summary>
public sealed class SoftmaxNode : Node
{
    public override string Kind => IsLog ? "LogSoftmax" : "Softmax";
    public bool IsLog { get; private set; }
    public int Outer { get; private set; }
    public int Classes { get; private set; }
    public int Inner { get; private set; }
    public Tensor Input => Inputs[0];

    internal Tensor Forward(Tape tape, Tensor input, int axis, bool flattenFromAxis, bool logarithm)
    {
        var s = input.Shape;
        int a = s.Rank == 0 ? 0 : s.Axis(axis);
        IsLog = logarithm;
        Outer = s.Product(0, a);
        Classes = flattenFromAxis ? s.Product(a, s.Rank) : (s.Rank == 0 ? 1 : s[a]);
        Inner = flattenFromAxis ? 1 : s.Product(Math.Min(a + 1, s.Rank), s.Rank);
        SetInputs(input);
        var output = EnsureOutput(tape, s.Dims);
        if (logarithm) tape.Kernels.LogSoftmaxForward(output, input, Outer, Classes, Inner);
        else tape.Kernels.SoftmaxForward(output, input, Outer, Classes, Inner);
        return output;
    }

    public override void Backward(IKernels kernels)
    {
        if (GradOf(Input) is not { } dInput) return;
        if (IsLog) kernels.LogSoftmaxBackward(dInput, Output.Grad!, Output, Outer, Classes, Inner);
        else kernels.SoftmaxBackward(dInput, Output.Grad!, Output, Outer, Classes, Inner);
    }

    /// <summary>
    /// Taped, on the [outer, classes, inner] view: softmax dx = y ⊙ (g − Σ_c g·y); log-softmax dx = g − e^y ⊙ Σ_c g.
    /// y is this node's output, itself on the tape, so the rule differentiates again.
    /// </summary>
    public override Tensor?[] BackwardTaped(Tape tape, Tensor gradOutput)
    {
        if (!WantsGradient(tape, Input)) return TapedGradients(null);
        ReadOnlySpan<int> view = [Outer, Classes, Inner];
        var y = tape.Reshape(Output, view);
        var g = tape.Reshape(gradOutput, view);
        var dx = IsLog
            ? tape.Sub(g, tape.Mul(tape.Unary(y, new Elementwise.Exp()), tape.Reduce(ReduceKind.Sum, g, [1], keepDims: true)))
            : tape.Mul(y, tape.Sub(g, tape.Reduce(ReduceKind.Sum, tape.Mul(g, y), [1], keepDims: true)));
        return TapedGradients(tape.Reshape(dx, Input.Shape.Dims));
    }
}
