using NanoCam.Ops;

namespace NanoCam.Onnx.Operators;

/// <summary>Expand (NumPy broadcast to a known shape) and Tile (repeats along each axis), as remaps on the tape.</summary>
internal static class Broadcasting
{
    public static readonly OnnxOperator Expand = OnnxOperator.Single("Expand", c =>
        OnnxOperatorContext.Result(c.Tape.Expand(c.Float(0), Ints(c, c.KnownIntegers(1), "shape")), c.Input(0).ElementType));

    public static readonly OnnxOperator Tile = OnnxOperator.Single("Tile", c =>
        OnnxOperatorContext.Result(c.Tape.Tile(c.Float(0), Ints(c, c.KnownIntegers(1), "repeats")), c.Input(0).ElementType));

    private static int[] Ints(OnnxOperatorContext c, long[] values, string what) =>
        values.Any(v => v < 0 || v > OnnxModel.MaxDimension) ? throw c.Invalid($"{what} [{string.Join(", ", values)}] holds a size outside [0, {OnnxModel.MaxDimension}]")
        : values.Select(v => (int)v).ToArray();
}
