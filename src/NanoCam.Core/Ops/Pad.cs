using NanoCam.Autodiff;

namespace NanoCam.Ops;

public static partial class TapeOps
{
    /// <summary>
    /// Pads axis a with begin[a] elements before and end[a] after (a negative pad crops): out[i] reads x[i − begin]
    /// per axis, and outside the input <paramref name="mode"/> decides — the constant <paramref name="value"/>, the edge
    /// element, the mirror image without repeating the edge (reflect), or the periodic continuation (wrap) (ONNX Pad).
    /// </summary>
    public static Tensor Pad(this Tape tape, Tensor x, ReadOnlySpan<int> begin, ReadOnlySpan<int> end, BorderMode mode, float value = 0f)
    {
        int rank = x.Shape.Rank;
        if (begin.Length != rank || end.Length != rank)
            throw new ArgumentException($"pad: pads {Format(begin)} and {Format(end)} need {rank} entries each for {x.Shape}");
        Span<int> strides = stackalloc int[rank];
        RowMajorStrides(x.Shape, strides);
        Span<RemapAxis> axes = rank <= 16 ? stackalloc RemapAxis[rank] : new RemapAxis[rank];
        for (int a = 0; a < rank; a++)
        {
            int n = x.Shape[a], size = n + begin[a] + end[a];
            if (size < 0) throw new ArgumentException($"pad: axis {a} of {x.Shape} with pads {begin[a]} and {end[a]} would have {size} elements");
            if (mode != BorderMode.Constant && n == 0 && size > 0)
                throw new ArgumentException($"pad: axis {a} of {x.Shape} is empty, so '{mode}' padding has nothing to repeat");
            axes[a] = new RemapAxis(size, n, strides[a], -begin[a], 1, mode);
        }
        return tape.Remap(x, axes, value, "Pad");
    }
}
