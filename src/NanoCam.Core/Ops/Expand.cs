using NanoCam.Autodiff;

namespace NanoCam.Ops;

public static partial class TapeOps
{
    /// <summary>
    /// x broadcast to the NumPy broadcast of x.Shape and <paramref name="dims"/> (ONNX Expand: a 1 in dims keeps x's size):
    /// axes where x has size 1 (or that x lacks) repeat it with step 0. Backward sums the gradient over the copies.
    /// </summary>
    public static Tensor Expand(this Tape tape, Tensor x, ReadOnlySpan<int> dims)
    {
        int rank = Math.Max(x.Shape.Rank, dims.Length);
        Span<int> target = stackalloc int[rank];
        BroadcastDims(x.Shape.Dims, dims, target, "expand");
        return tape.Remap(x, ExpandAxes(x.Shape, target, rank <= 16 ? stackalloc RemapAxis[rank] : new RemapAxis[rank]), 0f, "Expand");
    }

    /// <summary>The remap axes that repeat <paramref name="shape"/> (right-aligned) over <paramref name="target"/>.</summary>
    private static Span<RemapAxis> ExpandAxes(Shape shape, ReadOnlySpan<int> target, Span<RemapAxis> axes)
    {
        int rank = target.Length, lead = rank - shape.Rank;
        Span<int> strides = stackalloc int[shape.Rank];
        RowMajorStrides(shape, strides);
        for (int k = 0; k < rank; k++)
        {
            int a = k - lead;
            int n = a < 0 ? 1 : shape[a], stride = a < 0 ? 0 : strides[a];
            if (n != target[k] && n != 1) throw new ArgumentException($"expand: {shape} does not broadcast to {Format(target)}");
            axes[k] = new RemapAxis(target[k], n, stride, 0, n == target[k] ? 1 : 0, BorderMode.Constant);
        }
        return axes;
    }

    /// <summary>
    /// The NumPy broadcast of two shapes into <paramref name="result"/> (length max of the ranks): align on the right; each
    /// pair of sizes must be equal or one of them 1. Allocation-free twin of <see cref="BroadcastShape"/>.
    /// </summary>
    private static void BroadcastDims(ReadOnlySpan<int> a, ReadOnlySpan<int> b, Span<int> result, string op)
    {
        int rank = result.Length;
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            int db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException($"{op}: shapes {Format(a)} and {Format(b)} do not broadcast (axis {i}: {da} vs {db})");
            result[i] = da == 1 ? db : da;
        }
    }
}
