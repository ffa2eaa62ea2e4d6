using NanoCam.Ops;

namespace NanoCam.Onnx.Operators;

/// <summary>Conv: 2-D convolution over NCHW (groups, strides, dilations, pads or auto_pad), and 1-D as 2-D with a height of 1.</summary>
internal static class Conv
{
    public static readonly OnnxOperator Operator = OnnxOperator.Single("Conv", Run);

    private static OnnxValue Run(OnnxOperatorContext c)
    {
        var x = c.Float(0);
        var w = c.Float(1);
        var bias = c.OptionalFloat(2);
        var tape = c.Tape;
        if (GeometryOf(c.Node, x, w) is { } g) return OnnxOperatorContext.Result(tape.Conv2d(x, w, bias, g));
        // 1-D: run as 2-D with a height of 1.
        var strides = SpatialAttributes.IntsOr(c.Node, "strides", 1, 1);
        var dilations = SpatialAttributes.IntsOr(c.Node, "dilations", 1, 1);
        var (begin, end) = SpatialAttributes.Padding(c.Node, [x.Shape[2]], [w.Shape[2]], strides, dilations);
        var g1 = Conv2dGeometry.For(new Shape(x.Shape[0], x.Shape[1], 1, x.Shape[2]), new Shape(w.Shape[0], w.Shape[1], 1, w.Shape[2]),
            (1, strides[0]), (0, begin[0], 0, end[0]), (1, dilations[0]), (int)c.Node.Int("group", 1));
        var y1 = tape.Conv2d(tape.Reshape(x, [x.Shape[0], x.Shape[1], 1, x.Shape[2]]), tape.Reshape(w, [w.Shape[0], w.Shape[1], 1, w.Shape[2]]), bias, g1);
        return OnnxOperatorContext.Result(tape.Reshape(y1, [y1.Shape[0], y1.Shape[1], y1.Shape[3]]));
    }

    /// <summary>A 2-D convolution's geometry for one pair of input and weight shapes.</summary>
    private sealed record ConvPlan(Shape Input, Shape Weight, Conv2dGeometry Geometry);

    /// <summary>
    /// The geometry of a 2-D Conv node for these input and weight shapes (kept on the node while the shapes stay),
    /// or null for a 1-D convolution; any other rank is refused.
    /// </summary>
    internal static Conv2dGeometry? GeometryOf(OnnxNode node, Tensor x, Tensor w)
    {
        if (node.Plan is ConvPlan plan && plan.Input == x.Shape && plan.Weight == w.Shape) return plan.Geometry;
        int spatial = x.Shape.Rank - 2;
        if (spatial is not (1 or 2))
            throw new NotSupportedException($"ONNX node {node.Name} (Conv, opset {node.Opset}): {spatial}-D spatial input {x.Shape} is not supported (1-D and 2-D convolution only)");
        if (w.Shape.Rank != x.Shape.Rank) throw new ArgumentException($"weight {w.Shape} and input {x.Shape} differ in rank");
        if (spatial == 1) return null;
        var kernel = w.Shape.Dims[2..].ToArray();
        var strides = SpatialAttributes.IntsOr(node, "strides", spatial, 1);
        var dilations = SpatialAttributes.IntsOr(node, "dilations", spatial, 1);
        var (begin, end) = SpatialAttributes.Padding(node, x.Shape.Dims[2..].ToArray(), kernel, strides, dilations);
        int groups = (int)node.Int("group", 1);
        var g = Conv2dGeometry.For(x.Shape, w.Shape, (strides[0], strides[1]), (begin[0], begin[1], end[0], end[1]), (dilations[0], dilations[1]), groups);
        node.Plan = new ConvPlan(x.Shape, w.Shape, g);
        return g;
    }
}
