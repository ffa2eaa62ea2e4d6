using Google.Protobuf;
using NanoCam.Autodiff;
using NanoCam.Cpu.Naive;
using NanoCam.Onnx.Protos;

namespace NanoCam.Onnx.Tests;

/// <summary>Export keeps each initializer's element type and the integer constants; Dropout drops on a training tape only.</summary>
public sealed class GraphExportTests
{
    [Fact]
    public void Export_WritesEachFloatInitializerInItsOwnType_WithTheCurrentValues_AndKeepsIntegerConstants()
    {
        var graph = TestGraphs.Graph(
        [
            TestGraphs.Node("Mul", ["x", "w32"], ["a"]),
            TestGraphs.Node("Mul", ["a", "w16"], ["b"]),
            TestGraphs.Node("Reshape", ["b", "shape"], ["y"]),
        ], "x", "y");
        graph.Initializer.Add(TestGraphs.FloatTensor("w32", [3], [1f, 2f, 3f]));
        var half = new TensorProto { Name = "w16", DataType = (int)OnnxDataType.Float16 };
        half.Dims.Add(3);
        half.RawData = ByteString.CopyFrom([.. new[] { (Half)1f, (Half)1f, (Half)1f }.SelectMany(h => BitConverter.GetBytes(h))]);
        graph.Initializer.Add(half);
        graph.Initializer.Add(TestGraphs.Int64Tensor("shape", [2], [1, -1]));
        var model = TestGraphs.Load(graph, 13);
        float[] trained32 = [0.1f, -2.5f, 7.25f], trained16 = [0.3f, -1.7f, 1e-3f];
        trained32.CopyTo(model.Parameters["w32"].Span);
        trained16.CopyTo(model.Parameters["w16"].Span);
        model.ParametersChanged();

        var written = ModelProto.Parser.ParseFrom(model.ToOnnxBytes(new Dictionary<string, string> { ["k"] = "v" }));
        var w32 = written.Graph.Initializer.Single(i => i.Name == "w32");
        var w16 = written.Graph.Initializer.Single(i => i.Name == "w16");
        Assert.Equal((int)OnnxDataType.Float, w32.DataType);
        Assert.Equal((int)OnnxDataType.Float16, w16.DataType);
        Assert.Equal(trained32, Enumerable.Range(0, 3).Select(i => BitConverter.ToSingle(w32.RawData.Span[(4 * i)..])));
        Assert.Equal(trained16.Select(v => (Half)v), Enumerable.Range(0, 3).Select(i => BitConverter.ToHalf(w16.RawData.Span[(2 * i)..])));
        Assert.Equal([1L, -1L], written.Graph.Initializer.Single(i => i.Name == "shape").Int64Data);
        Assert.Contains(written.MetadataProps, e => e.Key == "k" && e.Value == "v");

        var reloaded = OnnxModel.Load(written.ToByteArray());
        var output = reloaded.Run(new Tape(new NaiveKernels()) { GradEnabled = false }, Tensor.FromArray([1f, 1f, 1f], 3));
        Assert.Equal([1, 3], output.Shape.ToArray());
        var y = output.ToArray();
        for (int i = 0; i < 3; i++) Assert.Equal(trained32[i] * (float)(Half)trained16[i], y[i], 6);
    }

    [Theory]
    [InlineData(11)]
    [InlineData(13)]
    public void Dropout_DropsAtTheNodesRatioOnATrainingTape_AndIsTheIdentityOtherwise(int opset)
    {
        var node = opset >= 12
            ? TestGraphs.Node("Dropout", ["x", "ratio"], ["y"])
            : TestGraphs.Node("Dropout", ["x"], ["y"], ("ratio", 0.25f));
        var graph = TestGraphs.Graph([node], "x", "y");
        if (opset >= 12) graph.Initializer.Add(TestGraphs.FloatTensor("ratio", [], [0.25f]));
        var model = TestGraphs.Load(graph, opset);
        var x = Tensor.FromArray(Enumerable.Repeat(1f, 4000).ToArray(), 4000);
        Assert.Equal(x.ToArray(), model.Run(new Tape(new NaiveKernels()) { GradEnabled = false }, x).ToArray());
        var dropped = model.Run(new Tape(new NaiveKernels()) { Training = true, Seed = 3 }, x).ToArray();
        // Inverted dropout: kept elements scaled by 1/(1 − 0.25), about a quarter of them zero.
        Assert.All(dropped, v => Assert.True(v == 0f || Math.Abs(v - 1f / 0.75f) < 1e-6f, $"{v}"));
        Assert.InRange(dropped.Count(v => v == 0f) / 4000.0, 0.2, 0.3);
    }
}
