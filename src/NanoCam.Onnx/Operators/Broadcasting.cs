using NanoCam.Ops;

namespace NanoCam.Onnx.Operators;

/// <summary>Expand (NumPy broadcast to a known shape) and Tile (repeats along each axis), as remaps on the tape.</summary>
internal static class Broadcasting
{
    public static readonly OnnxOperator Expand = OnnxOperator.Single("Expand", c =>
        OnnxOperatorContext.Result(c.Tape.Expand(c.Float(0), Ints(c, "shape")), c.Input(0).ElementType));

    public static readonly OnnxOperator Tile = OnnxOperator.Single("Tile", c =>
        OnnxOperatorContext.Result(c.Tape.Tile(c.Float(0), Ints(c, "repeats")), c.Input(0).ElementType));

    /// <summary>Input 1 (the known sizes) as ints, worked out once for these inputs.</summary>
    private static int[] Ints(OnnxOperatorContext c, string what)
    {
        if (c.TryRecall(out int[] recalled)) return recalled;
        var values = c.KnownIntegers(1);
        return values.Any(v => v < 0 || v > OnnxModel.MaxDimension) ? throw c.Invalid($"{what} [{string.Join(", ", values)}] holds a size outside [0, {OnnxModel.MaxDimension}]")
            : c.Remember(values.Select(v => (int)v).ToArray());
    }
}
