namespace NanoCam.Onnx.Operators;

/// <summary>ConstantOfShape (a known shape filled with one value) and Range (start, limit, delta), both folded to constants.</summary>
internal static class Constants
{
    public static readonly OnnxOperator ConstantOfShape = OnnxOperator.Single("ConstantOfShape", RunConstantOfShape);
    public static readonly OnnxOperator Range = OnnxOperator.Single("Range", RunRange);

    private static OnnxValue RunConstantOfShape(OnnxOperatorContext c)
    {
        var shape = c.KnownIntegers(0);
        if (shape.Any(d => d < 0 || d > OnnxModel.MaxDimension)) throw c.Invalid($"shape [{string.Join(", ", shape)}] holds a size outside [0, {OnnxModel.MaxDimension}]");
        var dims = shape.Select(d => (int)d).ToArray();
        var fill = c.Node.Attribute("value") is { } a ? OnnxTensors.Decode(a.T, null, $"ConstantOfShape node {c.Node.Name}") : OnnxValue.FromTensor(Tensor.Scalar(0f));
        if (fill.Size != 1) throw c.Invalid($"value must hold one element, got {fill}");
        int size = new Shape(dims).Size;
        return fill.Integers is { } ints
            ? OnnxValue.FromIntegers(Enumerable.Repeat(ints[0], size).ToArray(), dims, fill.ElementType)
            : OnnxValue.FromTensor(Tensor.FromArray(Enumerable.Repeat(fill.ToFloatArray()[0], size).ToArray(), dims), fill.ElementType);
    }

    /// <summary>Range: ⌈(limit − start) / delta⌉ elements start + i·delta (none when that is negative).</summary>
    private static OnnxValue RunRange(OnnxOperatorContext c)
    {
        var type = c.Input(0).ElementType;
        if (type.IsInteger())
        {
            long start = c.KnownIntegers(0)[0], limit = c.KnownIntegers(1)[0], delta = c.KnownIntegers(2)[0];
            if (delta == 0) throw c.Invalid("delta is 0");
            long count = Math.Max(0, (long)Math.Ceiling((double)(limit - start) / delta));
            if (count > OnnxModel.MaxDimension) throw c.Invalid($"{count} elements is more than NanoCam takes ({OnnxModel.MaxDimension})");
            return OnnxValue.FromIntegers(Enumerable.Range(0, (int)count).Select(i => start + i * delta).ToArray(), [(int)count], type);
        }
        double s = c.KnownScalar(0), l = c.KnownScalar(1), d = c.KnownScalar(2);
        if (d == 0) throw c.Invalid("delta is 0");
        long n = Math.Max(0, (long)Math.Ceiling((l - s) / d));
        if (n > OnnxModel.MaxDimension) throw c.Invalid($"{n} elements is more than NanoCam takes ({OnnxModel.MaxDimension})");
        var values = new float[n];
        // The ONNX reference accumulates start + i·delta in the input's precision.
        for (int i = 0; i < n; i++)
            values[i] = type == OnnxDataType.Float16 ? (float)(Half)(float)(s + i * d) : (float)(s + i * d);
        return OnnxValue.FromTensor(Tensor.FromArray(values, (int)n), type);
    }
}
