using NanoCam.Autodiff;

namespace NanoCam.Ops;

public static partial class TapeOps
{
    /// <summary>
    /// The index (as a float) of the largest element along <paramref name="axis"/>: the first on a tie, or the last with
    /// <paramref name="selectLast"/> (ONNX ArgMax); a NaN counts as the largest (NumPy). Never requires a gradient.
    /// </summary>
    public static Tensor ArgMax(this Tape tape, Tensor x, int axis, bool keepDims, bool selectLast) =>
        tape.Next<ArgReduceNode>().Forward(tape, x, x.Shape.Axis(axis), keepDims, selectLast, max: true);

    /// <summary>The index (as a float) of the smallest element along <paramref name="axis"/> (ONNX ArgMin); see <see cref="ArgMax"/>.</summary>
    public static Tensor ArgMin(this Tape tape, Tensor x, int axis, bool keepDims, bool selectLast) =>
        tape.Next<ArgReduceNode>().Forward(tape, x, x.Shape.Axis(axis), keepDims, selectLast, max: false);
}

/// <summary>Arg-max or arg-min along one axis (input seen as [outer, size, inner]); an index has no gradient.</summary>
public sealed class ArgReduceNode : Node
{
    private int[] _dims = [];

    public override string Kind => Max ? "ArgMax" : "ArgMin";
    public bool Max { get; private set; }
    public Tensor Input => Inputs[0];

    internal Tensor Forward(Tape tape, Tensor input, int axis, bool keepDims, bool selectLast, bool max)
    {
        Max = max;
        SetInputs(input);
        var shape = input.Shape;
        int rank = keepDims ? shape.Rank : shape.Rank - 1;
        if (_dims.Length != rank) _dims = new int[rank];
        for (int a = 0, k = 0; a < shape.Rank; a++)
        {
            if (a == axis) { if (keepDims) _dims[k++] = 1; }
            else _dims[k++] = shape[a];
        }
        var output = EnsureOutput(tape, _dims);
        output.RequiresGrad = false;
        tape.Kernels.ArgReduce(output, input, shape.Product(0, axis), shape[axis], shape.Product(axis + 1, shape.Rank), max, selectLast);
        return output;
    }

    public override void Backward(IKernels kernels) { }
}
