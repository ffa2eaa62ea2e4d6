using NanoCam.Autodiff;

namespace NanoCam.Ops;

public static partial class TapeOps
{
    /// <summary>
    /// Permutes the axes: output axis k is input axis perm[k] (ONNX Transpose), so out[i_0, …] = x[…] with
    /// i_k at position perm[k]. A remap whose axes read the input's strides in permuted order.
    /// </summary>
    public static Tensor Transpose(this Tape tape, Tensor x, ReadOnlySpan<int> perm)
    {
        int rank = x.Shape.Rank;
        if (perm.Length != rank) throw new ArgumentException($"transpose: permutation {Format(perm)} has {perm.Length} entries for {x.Shape} of rank {rank}");
        Span<int> strides = stackalloc int[rank];
        Span<bool> seen = stackalloc bool[rank];
        RowMajorStrides(x.Shape, strides);
        Span<RemapAxis> axes = rank <= 16 ? stackalloc RemapAxis[rank] : new RemapAxis[rank];
        for (int k = 0; k < rank; k++)
        {
            int a = perm[k];
            if ((uint)a >= (uint)rank || seen[a]) throw new ArgumentException($"transpose: {Format(perm)} is not a permutation of the {rank} axes of {x.Shape}");
            seen[a] = true;
            axes[k] = new RemapAxis(x.Shape[a], x.Shape[a], strides[a], 0, 1, BorderMode.Constant);
        }
        return tape.Remap(x, axes, 0f, "Transpose");
    }
}
