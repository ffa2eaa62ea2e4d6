namespace NanoCam.Onnx.Operators;

/// <summary>Constant: a tensor given as an attribute (value, value_float(s), value_int(s), value_string(s)).</summary>
internal static class Constant
{
    public static readonly OnnxOperator Operator = OnnxOperator.Single("Constant", Run);

    private static OnnxValue Run(OnnxOperatorContext c)
    {
        var node = c.Node;
        if (node.Attribute("value") is { } a) return OnnxTensors.Decode(a.T, null, $"Constant node {node.Name}");
        if (node.HasAttribute("value_float")) return OnnxValue.FromTensor(Tensor.Scalar(node.Float("value_float", 0f)));
        if (node.Floats("value_floats") is { } fs) return OnnxValue.FromTensor(Tensor.FromArray(fs, fs.Length));
        if (node.HasAttribute("value_int")) return OnnxValue.FromIntegers([node.Int("value_int", 0)], []);
        if (node.Ints("value_ints") is { } ints) return OnnxValue.FromIntegers(ints, [ints.Length]);
        if (node.HasAttribute("value_string")) return OnnxValue.FromStrings([node.String("value_string", "")], []);
        if (node.Attribute("value_strings") is { } strings)
            return OnnxValue.FromStrings(strings.Strings.Select(s => s.ToStringUtf8()).ToArray(), [strings.Strings.Count]);
        throw c.Unsupported("only the value, value_float(s), value_int(s) and value_string(s) attributes are supported (sparse_value is not)");
    }
}
