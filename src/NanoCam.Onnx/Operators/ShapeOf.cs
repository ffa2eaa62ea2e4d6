namespace NanoCam.Onnx.Operators;

/// <summary>Shape (the input's dimensions as an INT64 vector, sliced by start/end from opset 15) and Size: known at load for any input.</summary>
internal static class ShapeOf
{
    public static readonly OnnxOperator Operator = OnnxOperator.Single("Shape", Run) with { ReadsShapesOnly = true };

    /// <summary>Size: the input's number of elements as an INT64 scalar.</summary>
    public static readonly OnnxOperator Size = OnnxOperator.Single("Size", c => OnnxValue.FromIntegers([new Shape(c.Input(0).Dims).Size], [])) with { ReadsShapesOnly = true };

    private static OnnxValue Run(OnnxOperatorContext c)
    {
        var dims = c.Input(0).Dims;
        int rank = dims.Length;
        long start = c.Node.Int("start", 0), end = c.Node.Int("end", rank);
        if (start < 0) start += rank;
        if (end < 0) end += rank;
        start = Math.Clamp(start, 0, rank);
        end = Math.Clamp(end, start, rank);
        var values = dims[(int)start..(int)end].Select(d => (long)d).ToArray();
        return OnnxValue.FromIntegers(values, [values.Length]);
    }
}
