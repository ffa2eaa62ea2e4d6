using NanoCam.Autodiff;

namespace NanoCam.Ops;

public static partial class TapeOps
{
    /// <summary>
    /// The gradient of a broadcast operand as taped ops: <paramref name="gradient"/> summed over the axes along which
    /// <paramref name="shape"/> was broadcast (leading axes it lacks, and its size-1 axes), viewed with that shape.
    /// </summary>
    internal static Tensor SumToShape(this Tape tape, Tensor gradient, Shape shape)
    {
        if (gradient.Shape == shape) return gradient;
        int rank = gradient.Shape.Rank, lead = rank - shape.Rank;
        Span<int> axes = stackalloc int[rank];
        int count = 0;
        for (int a = 0; a < rank; a++)
            if (a < lead || (shape[a - lead] == 1 && gradient.Shape[a] != 1)) axes[count++] = a;
        var summed = count == 0 ? gradient : tape.Reduce(ReduceKind.Sum, gradient, axes[..count], keepDims: true);
        return tape.Reshape(summed, shape.Dims);
    }
}
