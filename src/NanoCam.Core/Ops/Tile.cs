using NanoCam.Autodiff;

namespace NanoCam.Ops;

public static partial class TapeOps
{
    /// <summary>
    /// Repeats x repeats[a] times along each axis a (ONNX Tile): out[i] = x[i mod n] per axis, a remap with a wrapping
    /// border. Backward sums the gradient over the tiles.
    /// </summary>
    public static Tensor Tile(this Tape tape, Tensor x, ReadOnlySpan<int> repeats)
    {
        int rank = x.Shape.Rank;
        if (repeats.Length != rank) throw new ArgumentException($"tile: repeats {Format(repeats)} need {rank} entries for {x.Shape}");
        Span<int> strides = stackalloc int[rank];
        RowMajorStrides(x.Shape, strides);
        Span<RemapAxis> axes = rank <= 16 ? stackalloc RemapAxis[rank] : new RemapAxis[rank];
        for (int a = 0; a < rank; a++)
        {
            if (repeats[a] < 0) throw new ArgumentException($"tile: repeats {Format(repeats)} has a negative entry");
            long size = (long)x.Shape[a] * repeats[a];
            if (size > int.MaxValue) throw new ArgumentException($"tile: axis {a} of {x.Shape} repeated {repeats[a]} times exceeds 2^31 elements");
            axes[a] = new RemapAxis((int)size, x.Shape[a], strides[a], 0, 1, BorderMode.Wrap);
        }
        return tape.Remap(x, axes, 0f, "Tile");
    }
}
