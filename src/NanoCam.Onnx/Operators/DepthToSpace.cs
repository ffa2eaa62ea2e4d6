using NanoCam.Ops;

namespace NanoCam.Onnx.Operators;

/// <summary>
/// DepthToSpace and SpaceToDepth: moving b×b blocks between channels and space, each a Reshape, a Transpose and a
/// Reshape (the formulas of the ONNX specification, for an input [N, C, H, W] and blocksize b).
/// </summary>
internal static class DepthToSpace
{
    public static readonly OnnxOperator DepthToSpaceOperator = OnnxOperator.Single("DepthToSpace", RunDepthToSpace);
    public static readonly OnnxOperator SpaceToDepthOperator = OnnxOperator.Single("SpaceToDepth", RunSpaceToDepth);

    /// <summary>
    /// DCR (depth-column-row, the default): [N, b, b, C/b², H, W] → transpose (0, 3, 4, 1, 5, 2) → [N, C/b², H·b, W·b];
    /// CRD (column-row-depth, opset 11+): [N, C/b², b, b, H, W] → transpose (0, 1, 4, 2, 5, 3) → the same shape.
    /// </summary>
    private static OnnxValue RunDepthToSpace(OnnxOperatorContext c)
    {
        var x = c.Input(0);
        var (n, channels, h, w, b) = Sizes(c, x.Dims);
        if (channels % (b * b) != 0) throw c.Invalid($"channels {channels} are not a multiple of blocksize² = {b * b}");
        int depth = channels / (b * b);
        var mode = c.Opset >= 11 ? c.Node.String("mode", "DCR") : "DCR";
        var (blocks, perm) = mode switch
        {
            "DCR" => (new[] { n, b, b, depth, h, w }, new[] { 0, 3, 4, 1, 5, 2 }),
            "CRD" => (new[] { n, depth, b, b, h, w }, new[] { 0, 1, 4, 2, 5, 3 }),
            var other => throw c.Invalid($"mode '{DisplayText.Quote(other)}' is not DCR or CRD"),
        };
        var tape = c.Tape;
        var y = tape.Reshape(tape.Transpose(tape.Reshape(c.Float(0), blocks), perm), [n, depth, h * b, w * b]);
        return OnnxOperatorContext.Result(y, x.ElementType);
    }

    /// <summary>[N, C, H/b, b, W/b, b] → transpose (0, 3, 5, 1, 2, 4) → [N, C·b², H/b, W/b]: the inverse of DCR.</summary>
    private static OnnxValue RunSpaceToDepth(OnnxOperatorContext c)
    {
        var x = c.Input(0);
        var (n, channels, h, w, b) = Sizes(c, x.Dims);
        if (h % b != 0 || w % b != 0) throw c.Invalid($"height {h} and width {w} are not multiples of blocksize {b}");
        var tape = c.Tape;
        var blocks = tape.Reshape(c.Float(0), [n, channels, h / b, b, w / b, b]);
        var y = tape.Reshape(tape.Transpose(blocks, [0, 3, 5, 1, 2, 4]), [n, channels * b * b, h / b, w / b]);
        return OnnxOperatorContext.Result(y, x.ElementType);
    }

    private static (int N, int C, int H, int W, int Blocksize) Sizes(OnnxOperatorContext c, int[] dims)
    {
        if (dims.Length != 4) throw c.Invalid($"input must be [N, C, H, W], got [{string.Join(", ", dims)}]");
        long b = c.Node.Int("blocksize", 0);
        if (b < 1 || b > int.MaxValue) throw c.Invalid($"blocksize {b} must be positive");
        return (dims[0], dims[1], dims[2], dims[3], (int)b);
    }
}
