using NanoCam.Autodiff;

namespace NanoCam.Ops;

public static partial class TapeOps
{
    /// <summary>
    /// out[i_0, …] = x[starts[0] + steps[0]·i_0, …] with counts[a] elements on axis a: a strided slice whose every index is
    /// already normalized (first index, a nonzero step that may be negative, and the number of outputs, as an ONNX Slice
    /// resolves to). Every index read must lie inside the axis.
    /// </summary>
    public static Tensor Slice(this Tape tape, Tensor x, ReadOnlySpan<int> starts, ReadOnlySpan<int> steps, ReadOnlySpan<int> counts)
    {
        int rank = x.Shape.Rank;
        if (starts.Length != rank || steps.Length != rank || counts.Length != rank)
            throw new ArgumentException($"slice: starts {Format(starts)}, steps {Format(steps)} and counts {Format(counts)} need {rank} entries each for {x.Shape}");
        Span<int> strides = stackalloc int[rank];
        RowMajorStrides(x.Shape, strides);
        Span<RemapAxis> axes = rank <= 16 ? stackalloc RemapAxis[rank] : new RemapAxis[rank];
        for (int a = 0; a < rank; a++)
        {
            int n = x.Shape[a];
            long last = starts[a] + (long)steps[a] * (counts[a] - 1);
            if (steps[a] == 0 || counts[a] < 0 || (counts[a] > 0 && ((uint)starts[a] >= (uint)n || last < 0 || last >= n)))
                throw new ArgumentException($"slice: axis {a} of {x.Shape}: start {starts[a]}, step {steps[a]}, count {counts[a]} reads outside [0, {n}) or has a zero step");
            axes[a] = new RemapAxis(counts[a], n, strides[a], starts[a], steps[a], BorderMode.Constant);
        }
        return tape.Remap(x, axes, 0f, "Slice");
    }
}
