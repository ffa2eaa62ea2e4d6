using NanoCam.Autodiff;
using NanoCam.Cpu.Naive;
using NanoCam.Onnx.Protos;
using static NanoCam.Onnx.Tests.TestGraphs;

namespace NanoCam.Onnx.Tests;

/// <summary>
/// Shape arithmetic is folded when the graph is planned for an input shape, and folded again for another: the
/// `x.view(x.size(0), -1)` an exporter writes as Shape → Gather → Unsqueeze → Concat → Reshape runs no node per pass,
/// every tensor's shape is known without running the network, and a constant that ties the batch to 1 is found.
/// </summary>
public sealed class FoldingTests
{
    /// <summary>y = Relu(Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1]))): a flatten that keeps the batch.</summary>
    private static GraphProto DynamicFlatten()
    {
        var graph = Graph(
        [
            Node("Shape", "shape", ["x"], ["s"]),
            Node("Gather", "gather", ["s", "zero"], ["n"], ("axis", 0)),
            Node("Unsqueeze", "unsqueeze", ["n", "axes"], ["n1"]),
            Node("Concat", "concat", ["n1", "minus_one"], ["target"], ("axis", 0)),
            Node("Reshape", "reshape", ["x", "target"], ["flat"]),
            Node("Relu", "relu", ["flat"], ["y"]),
        ], "x", "y");
        graph.Input.Clear();
        var input = FloatInfo("x", 1, 2, 3, 4);
        input.Type.TensorType.Shape.Dim[0] = new TensorShapeProto.Types.Dimension { DimParam = "batch" };
        graph.Input.Add(input);
        graph.Initializer.Add(Int64s("zero", []));
        graph.Initializer.Add(Int64s("axes", [1], 0));
        graph.Initializer.Add(Int64s("minus_one", [1], -1));
        return graph;
    }

    private static TensorProto Int64s(string name, int[] dims, params long[] values)
    {
        var t = new TensorProto { Name = name, DataType = (int)OnnxDataType.Int64 };
        t.Dims.AddRange(dims.Select(d => (long)d));
        t.Int64Data.AddRange(values.Length == 0 ? [0] : values);
        return t;
    }

    [Fact]
    public void ShapeArithmetic_IsFolded_SoAPassRunsOnlyTheDataNodes()
    {
        var model = Load(DynamicFlatten(), 13);
        var tape = new Tape(NaiveKernels.Instance) { GradEnabled = false };
        var x = Tensor.FromArray(Enumerable.Range(0, 2 * 24).Select(i => i - 20f).ToArray(), 2, 2, 3, 4);
        var y = model.Run(tape, x);
        Assert.Equal([2, 24], y.Shape.ToArray());
        Assert.Equal(x.ToArray().Select(v => Math.Max(v, 0f)), y.ToArray());
        // Only Reshape and Relu reached the tape: the shape nodes were folded into the constant [2, -1].
        Assert.Equal(["Reshape", "Relu"], tape.Nodes.Select(n => n.Kind));
    }

    [Fact]
    public void AnotherBatchSize_IsFoldedAgain()
    {
        var model = Load(DynamicFlatten(), 13);
        foreach (int batch in new[] { 1, 5, 3 })
        {
            var y = model.Run(new Tape(NaiveKernels.Instance) { GradEnabled = false }, Tensor.Zeros(batch, 2, 3, 4));
            Assert.Equal([batch, 24], y.Shape.ToArray());
        }
        Assert.True(model.Batch.Independent, model.Batch.Reason);
    }

    [Fact]
    public void EveryShape_IsKnownWithoutRunningTheNetwork()
    {
        var model = Load(DynamicFlatten(), 13);
        var layers = model.DescribeLayers([7, 2, 3, 4]);
        Assert.Equal([7, 24], layers.Single(l => l.Name == "relu").OutputShapes[0]!);
        Assert.Equal([2], layers.Single(l => l.Name == "concat").OutputShapes[0]!);
    }

    [Fact]
    public void AConstantThatTiesTheBatchToOne_RunsImageByImage_AndSaysWhere()
    {
        var graph = Graph([Node("Reshape", "reshape", ["x", "target"], ["flat"]), Node("Relu", "relu", ["flat"], ["y"])], "x", "y");
        graph.Input.Clear();
        graph.Input.Add(FloatInfo("x", 1, 2, 3, 4));
        graph.Initializer.Add(Int64s("target", [2], 1, -1));
        var model = Load(graph, 13);
        Assert.False(model.Batch.Independent);
        Assert.Contains("reshape", model.Batch.Reason);
        Assert.Equal(1, model.MaxBatch);
        var ex = Assert.Throws<ArgumentException>(() => model.Run(new Tape(NaiveKernels.Instance) { GradEnabled = false }, Tensor.Zeros(2, 2, 3, 4)));
        Assert.Contains("expects [1, 2, 3, 4]", ex.Message);
    }

    [Fact]
    public void ASoftmaxAcrossTheBatch_IsNotBatched()
    {
        var graph = Graph([Node("Softmax", "softmax", ["x"], ["y"], ("axis", 0))], "x", "y");
        graph.Input.Clear();
        graph.Input.Add(FloatInfo("x", 1, 10));
        var model = Load(graph, 13);
        Assert.False(model.Batch.Independent);
        Assert.Contains("across the batch axis", model.Batch.Reason);
    }
}
