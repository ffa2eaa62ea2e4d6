using NanoCam.Autodiff;

namespace NanoCam.Ops;

public static partial class TapeOps
{
    /// <summary>Joins tensors along <paramref name="axis"/> (channels: axis 1); every other dimension must match.</summary>
    public static Tensor Concat(this Tape tape, ReadOnlySpan<Tensor> inputs, int axis = 1)
    {
        if (inputs.Length == 0) throw new ArgumentException("concat: no inputs");
        var first = inputs[0].Shape;
        int a = first.Axis(axis);
        return tape.Next<ConcatNode>().Forward(tape, inputs, a);
    }
}

/// <summary>Concatenation; backward hands each input its slice of the output gradient.</summary>
public sealed class ConcatNode : Node
{
    private int[] _dims = [];

    public override string Kind => "Concat";
    public int Axis { get; private set; }

    internal Tensor Forward(Tape tape, ReadOnlySpan<Tensor> inputs, int axis)
    {
        Axis = axis;
        SetInputs(inputs);
        var first = inputs[0].Shape;
        if (_dims.Length != first.Rank) _dims = new int[first.Rank];
        first.Dims.CopyTo(_dims);
        _dims[axis] = 0;
        foreach (var t in inputs)
        {
            if (t.Shape.Rank != first.Rank) throw new ArgumentException($"concat: {t.Shape} and {first} differ in rank");
            for (int i = 0; i < first.Rank; i++)
                if (i != axis && t.Shape[i] != first[i])
                    throw new ArgumentException($"concat along axis {axis}: {t.Shape} and {first} differ on axis {i}");
            _dims[axis] += t.Shape[axis];
        }
        var output = EnsureOutput(tape, _dims);
        int offset = 0;
        foreach (var t in inputs)
        {
            tape.Kernels.ConcatForward(output, t, axis, offset);
            offset += t.Shape[axis];
        }
        return output;
    }

    public override void Backward(IKernels kernels)
    {
        int offset = 0;
        foreach (var t in Inputs)
        {
            if (GradOf(t) is { } dInput) kernels.ConcatBackward(dInput, Output.Grad!, Axis, offset);
            offset += t.Shape[Axis];
        }
    }
}
