namespace NanoCam.Benchmarks.Onnx;

/// <summary>
/// Builds the bytes of a one-node ONNX model (ModelProto) so ONNX Runtime can run exactly the operation NanoCam runs,
/// without a protobuf dependency in this project. Field numbers are those of onnx.proto
/// (also in src/NanoCam.Onnx/Proto/onnx.proto): ModelProto{ir_version=1, graph=7, opset_import=8},
/// GraphProto{node=1, initializer=5, input=11, output=12}, NodeProto{input=1, output=2, op_type=4, attribute=5}, ...
/// </summary>
public static class SingleNodeModel
{
    private const int IrVersion = 8;
    private const int OpsetVersion = 17;
    private const int FloatElementType = 1;   // TensorProto.DataType.FLOAT
    private const int AttributeInts = 7;      // AttributeProto.AttributeType.INTS
    private const int AttributeInt = 2;       // AttributeProto.AttributeType.INT

    /// <summary>Y = MatMul(A, B) with A [m, k] and B [k, n] both graph inputs (no constant to pre-pack: the same work as NanoCam's Gemm).</summary>
    public static byte[] MatMul(int m, int n, int k) => Model(graph => graph
        .Message(1, node => Node(node, "MatMul", ["A", "B"], ["Y"]))
        .Message(11, input => ValueInfo(input, "A", m, k))
        .Message(11, input => ValueInfo(input, "B", k, n))
        .Message(12, output => ValueInfo(output, "Y", m, n)));

    /// <summary>
    /// Y = Conv(X, W, B) over NCHW with the geometry's kernel, strides, pads, dilations and groups; W and B are
    /// initializers, as in any exported model (ONNX Runtime may pre-pack them when the session is created).
    /// </summary>
    public static byte[] Conv(Conv2dGeometry g, float[] weight, float[] bias) => Model(graph => graph
        .Message(1, node => Node(node, "Conv", ["X", "W", "B"], ["Y"],
            attribute => IntsAttribute(attribute, "kernel_shape", g.KernelHeight, g.KernelWidth),
            attribute => IntsAttribute(attribute, "strides", g.StrideHeight, g.StrideWidth),
            attribute => IntsAttribute(attribute, "pads", g.PadTop, g.PadLeft, g.PadBottom, g.PadRight),
            attribute => IntsAttribute(attribute, "dilations", g.DilationHeight, g.DilationWidth),
            attribute => IntAttribute(attribute, "group", g.Groups)))
        .Message(5, tensor => Initializer(tensor, "W", weight, g.OutputChannels, g.InputChannelsPerGroup, g.KernelHeight, g.KernelWidth))
        .Message(5, tensor => Initializer(tensor, "B", bias, g.OutputChannels))
        .Message(11, input => ValueInfo(input, "X", g.Batch, g.InputChannels, g.InputHeight, g.InputWidth))
        .Message(12, output => ValueInfo(output, "Y", g.Batch, g.OutputChannels, g.OutputHeight, g.OutputWidth)));

    /// <summary>Y = MaxPool(X) over NCHW with the geometry's kernel, strides, pads, dilations and ceil mode (Y only, no Indices).</summary>
    public static byte[] MaxPool(Pool2dGeometry g) => Model(graph => graph
        .Message(1, node => Node(node, "MaxPool", ["X"], ["Y"],
            attribute => IntsAttribute(attribute, "kernel_shape", g.KernelHeight, g.KernelWidth),
            attribute => IntsAttribute(attribute, "strides", g.StrideHeight, g.StrideWidth),
            attribute => IntsAttribute(attribute, "pads", g.PadTop, g.PadLeft, g.PadBottom, g.PadRight),
            attribute => IntsAttribute(attribute, "dilations", g.DilationHeight, g.DilationWidth),
            attribute => IntAttribute(attribute, "ceil_mode", g.CeilMode ? 1 : 0)))
        .Message(11, input => ValueInfo(input, "X", g.Batch, g.Channels, g.InputHeight, g.InputWidth))
        .Message(12, output => ValueInfo(output, "Y", g.Batch, g.Channels, g.OutputHeight, g.OutputWidth)));

    private static byte[] Model(Action<ProtoWriter> graph) => new ProtoWriter()
        .Varint(1, IrVersion)
        .String(2, "nanocam-benchmarks")
        .Message(7, body => graph(body.String(2, "single_node")))
        .Message(8, opset => opset.String(1, "").Varint(2, OpsetVersion))
        .ToArray();

    private static void Node(ProtoWriter node, string opType, string[] inputs, string[] outputs, params Action<ProtoWriter>[] attributes)
    {
        foreach (var input in inputs) node.String(1, input);
        foreach (var output in outputs) node.String(2, output);
        node.String(3, opType.ToLowerInvariant()).String(4, opType);
        foreach (var attribute in attributes) node.Message(5, attribute);
    }

    private static void IntsAttribute(ProtoWriter attribute, string name, params int[] values) =>
        attribute.String(1, name).Varint(20, AttributeInts).Varints(8, values.Select(v => (long)v));

    private static void IntAttribute(ProtoWriter attribute, string name, int value) =>
        attribute.String(1, name).Varint(20, AttributeInt).Varint(3, value);

    // TensorProto{dims=1, data_type=2, name=8, raw_data=9}
    private static void Initializer(ProtoWriter tensor, string name, float[] values, params int[] dims)
    {
        if (values.Length != dims.Aggregate(1L, (p, d) => p * d)) throw new ArgumentException($"initializer {name}: {values.Length} values for dims [{string.Join(", ", dims)}]");
        tensor.Varints(1, dims.Select(d => (long)d)).Varint(2, FloatElementType).String(8, name).Floats(9, values);
    }

    // ValueInfoProto{name=1, type=2} → TypeProto{tensor_type=1} → Tensor{elem_type=1, shape=2} → TensorShapeProto{dim=1} → Dimension{dim_value=1}
    private static void ValueInfo(ProtoWriter valueInfo, string name, params int[] dims) => valueInfo
        .String(1, name)
        .Message(2, type => type.Message(1, tensorType => tensorType
            .Varint(1, FloatElementType)
            .Message(2, shape =>
            {
                foreach (int d in dims) shape.Message(1, dim => dim.Varint(1, d));
            })));
}
