using NanoCam.Autodiff;

namespace NanoCam.Ops;

public static partial class TapeOps
{
    /// <summary>The same elements with another shape of equal size (a view: no copy).</summary>
    public static Tensor Reshape(this Tape tape, Tensor input, ReadOnlySpan<int> dims)
    {
        long size = 1;
        foreach (var d in dims) size *= d;
        if (size != input.Size) throw new ArgumentException($"reshape: cannot view {input.Shape} ({input.Size} elements) as [{string.Join(", ", dims.ToArray())}] ({size} elements)");
        return tape.Next<ReshapeNode>().Forward(tape, input, dims);
    }

    /// <summary>[d0, …, d(axis−1), d(axis), …] → [d0·…·d(axis−1), d(axis)·…] (ONNX Flatten; axis 1 gives [N, rest]).</summary>
    public static Tensor Flatten(this Tape tape, Tensor input, int axis = 1)
    {
        var s = input.Shape;
        int a = axis < 0 ? axis + s.Rank : axis;
        if (a < 0 || a > s.Rank) throw new ArgumentException($"flatten: axis {axis} is out of range for {s}");
        return tape.Reshape(input, [s.Product(0, a), s.Product(a, s.Rank)]);
    }
}

/// <summary>Reshape as a view of the input's buffer; backward adds the gradient back unchanged (same element order).</summary>
public sealed class ReshapeNode : Node
{
    public override string Kind => "Reshape";
    public Tensor Input => Inputs[0];

    internal Tensor Forward(Tape tape, Tensor input, ReadOnlySpan<int> dims)
    {
        SetInputs(input);
        return EnsureViewOutput(tape, input, dims);
    }

    public override void Backward(IKernels kernels)
    {
        if (GradOf(Input) is { } dInput) kernels.AddScaled(dInput, Output.Grad!, 1f);
    }

    /// <summary>Taped: the gradient viewed with the input's shape.</summary>
    public override Tensor?[] BackwardTaped(Tape tape, Tensor gradOutput) =>
        TapedGradients(WantsGradient(tape, Input) ? tape.Reshape(gradOutput, Input.Shape.Dims) : null);
}
