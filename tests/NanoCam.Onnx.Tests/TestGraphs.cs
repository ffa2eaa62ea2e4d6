using Google.Protobuf;
using NanoCam.Autodiff;
using NanoCam.Cpu.Naive;
using NanoCam.Onnx.Protos;

namespace NanoCam.Onnx.Tests;

/// <summary>Builders for tiny ONNX models in memory: nodes with attributes, value infos, initializers, whole models.</summary>
internal static class TestGraphs
{
    public static ModelProto Model(GraphProto graph, int opset)
    {
        var model = new ModelProto { IrVersion = 8, Graph = graph, ProducerName = "NanoCam tests" };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return model;
    }

    /// <summary>Imports the graph from its serialized bytes (external data resolves against the temp folder).</summary>
    public static OnnxModel Load(GraphProto graph, int opset) =>
        OnnxModel.Load(Model(graph, opset).ToByteArray(), "test-model", Path.GetTempPath());

    /// <summary>A graph of <paramref name="nodes"/> with one untyped input and one output.</summary>
    public static GraphProto Graph(NodeProto[] nodes, string input, string output)
    {
        var graph = new GraphProto { Name = "test" };
        graph.Node.AddRange(nodes);
        graph.Input.Add(new ValueInfoProto { Name = input });
        graph.Output.Add(new ValueInfoProto { Name = output });
        return graph;
    }

    public static ValueInfoProto FloatInfo(string name, params int[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)OnnxDataType.Float, Shape = shape } } };
    }

    /// <summary>A node named after its op type (lower case).</summary>
    public static NodeProto Node(string opType, string[] inputs, string[] outputs, params (string Name, object Value)[] attributes) =>
        Node(opType, opType.ToLowerInvariant(), inputs, outputs, attributes);

    /// <summary>A node; attribute values may be int, long, float, string, int[] or long[].</summary>
    public static NodeProto Node(string opType, string name, string[] inputs, string[] outputs, params (string Name, object Value)[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = name };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        foreach (var (attributeName, value) in attributes)
            node.Attribute.Add(value switch
            {
                int i => new AttributeProto { Name = attributeName, Type = AttributeProto.Types.AttributeType.Int, I = i },
                long l => new AttributeProto { Name = attributeName, Type = AttributeProto.Types.AttributeType.Int, I = l },
                float f => new AttributeProto { Name = attributeName, Type = AttributeProto.Types.AttributeType.Float, F = f },
                string s => new AttributeProto { Name = attributeName, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(s) },
                int[] ints => Ints(attributeName, ints.Select(v => (long)v).ToArray()),
                long[] longs => Ints(attributeName, longs),
                _ => throw new ArgumentException($"attribute {attributeName}: unsupported value type {value.GetType().Name}"),
            });
        return node;
    }

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public static TensorProto Int64Tensor(string name, int[] dims, long[] values)
    {
        var t = new TensorProto { Name = name, DataType = (int)OnnxDataType.Int64 };
        t.Dims.AddRange(dims.Select(d => (long)d));
        t.Int64Data.AddRange(values);
        return t;
    }

    public static TensorProto FloatTensor(string name, int[] dims, float[] values)
    {
        var t = new TensorProto { Name = name, DataType = (int)OnnxDataType.Float };
        t.Dims.AddRange(dims.Select(d => (long)d));
        t.FloatData.AddRange(values);
        return t;
    }

    /// <summary>A graph of one node whose inputs are all graph inputs and whose outputs are all graph outputs.</summary>
    public static OnnxModel SingleNode(NodeProto node, int opset)
    {
        var graph = new GraphProto { Name = "test" };
        graph.Node.Add(node);
        foreach (var input in node.Input) graph.Input.Add(new ValueInfoProto { Name = input });
        foreach (var output in node.Output) graph.Output.Add(new ValueInfoProto { Name = output });
        return Load(graph, opset);
    }

    /// <summary>Runs one node on the naive kernels without gradients; returns its first output.</summary>
    public static Tensor Run(NodeProto node, int opset, params (string Name, Tensor Value)[] inputs) =>
        SingleNode(node, opset).Run(new Tape(new NaiveKernels()) { GradEnabled = false },
            inputs.ToDictionary(i => i.Name, i => OnnxValue.FromTensor(i.Value)))[node.Output[0]].Tensor!;
}
