using NanoCam.Ops;

namespace NanoCam.Onnx.Operators;

/// <summary>Expand (NumPy broadcast to a known shape) and Tile (repeats along each axis), as remaps on the tape.</summary>
internal static class Broadcasting
{
    // An expand or tile that leaves the shape as it is (a shape of 1s, repeats of 1) is a view of its input, like Identity.
    public static readonly OnnxOperator Expand = OnnxOperator.Single("Expand", c =>
    {
        var (x, shape) = (c.Float(0), Ints(c, "shape"));
        return OnnxOperatorContext.Result(KeepsShape(x.Shape, shape) ? c.Tape.Reshape(x, x.Shape.Dims) : c.Tape.Expand(x, shape), c.Input(0).ElementType);
    });

    public static readonly OnnxOperator Tile = OnnxOperator.Single("Tile", c =>
    {
        var (x, repeats) = (c.Float(0), Ints(c, "repeats"));
        bool once = repeats.Length == x.Shape.Rank && !repeats.AsSpan().ContainsAnyExcept(1);
        return OnnxOperatorContext.Result(once ? c.Tape.Reshape(x, x.Shape.Dims) : c.Tape.Tile(x, repeats), c.Input(0).ElementType);
    });

    /// <summary>Whether broadcasting <paramref name="shape"/> against <paramref name="dims"/> (right-aligned) gives <paramref name="shape"/> again.</summary>
    private static bool KeepsShape(Shape shape, int[] dims)
    {
        if (dims.Length > shape.Rank) return false;
        for (int k = 0; k < dims.Length; k++)
        {
            int d = dims[k], n = shape[shape.Rank - dims.Length + k];
            if (d != 1 && d != n) return false;
        }
        return true;
    }

    /// <summary>Input 1 (the known sizes) as ints, worked out once for these inputs.</summary>
    private static int[] Ints(OnnxOperatorContext c, string what)
    {
        if (c.TryRecall(out int[] recalled)) return recalled;
        var values = c.KnownIntegers(1);
        return values.Any(v => v < 0 || v > OnnxModel.MaxDimension) ? throw c.Invalid($"{what} [{string.Join(", ", values)}] holds a size outside [0, {OnnxModel.MaxDimension}]")
            : c.Remember(values.Select(v => (int)v).ToArray());
    }
}
