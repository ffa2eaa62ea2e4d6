using NanoCam.Autodiff;

namespace NanoCam.Ops;

public static partial class TapeOps
{
    /// <summary>
    /// out = condition ≠ 0 ? a : b element by element, with NumPy broadcasting of all three (ONNX Where): operands that do
    /// not already have the broadcast shape are expanded first (<see cref="Expand"/>, whose backward sums the copies).
    /// The condition receives no gradient.
    /// </summary>
    public static Tensor Where(this Tape tape, Tensor condition, Tensor a, Tensor b)
    {
        int rank = Math.Max(condition.Shape.Rank, Math.Max(a.Shape.Rank, b.Shape.Rank));
        Span<int> ab = stackalloc int[Math.Max(a.Shape.Rank, b.Shape.Rank)];
        Span<int> dims = stackalloc int[rank];
        BroadcastDims(a.Shape.Dims, b.Shape.Dims, ab, "where");
        BroadcastDims(condition.Shape.Dims, ab, dims, "where");
        condition = ExpandTo(tape, condition, dims);
        a = ExpandTo(tape, a, dims);
        b = ExpandTo(tape, b, dims);
        return tape.Next<SelectNode>().Forward(tape, condition, a, b);
    }

    private static Tensor ExpandTo(Tape tape, Tensor x, ReadOnlySpan<int> dims) =>
        x.Shape.Dims.SequenceEqual(dims) ? x : tape.Expand(x, dims);
}

/// <summary>out = condition ≠ 0 ? a : b over tensors of one shape; backward routes dy to a where the condition holds, to b elsewhere.</summary>
public sealed class SelectNode : Node
{
    public override string Kind => "Where";
    public Tensor Condition => Inputs[0];
    public Tensor A => Inputs[1];
    public Tensor B => Inputs[2];

    internal Tensor Forward(Tape tape, Tensor condition, Tensor a, Tensor b)
    {
        SetInputs([condition, a, b]);
        var output = EnsureOutput(tape, a.Shape.Dims);
        tape.Kernels.SelectForward(output, condition, a, b);
        return output;
    }

    public override void Backward(IKernels kernels)
    {
        var dA = GradOf(A);
        var dB = GradOf(B);
        if (dA is not null || dB is not null) kernels.SelectBackward(dA, dB, Output.Grad!, Condition);
    }
}
