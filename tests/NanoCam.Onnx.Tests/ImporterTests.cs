using Google.Protobuf;
using NanoCam.Autodiff;
using NanoCam.Cpu.Naive;
using NanoCam.Onnx.Protos;
using static NanoCam.Onnx.Tests.TestGraphs;
using Xunit.Abstractions;

namespace NanoCam.Onnx.Tests;

/// <summary>MNIST import, constant folding, FLOAT16 decoding, CAM head detection, and the importer's errors.</summary>
public sealed class ImporterTests(ITestOutputHelper output)
{
    private static Tape NoGradTape() => new(new NaiveKernels()) { GradEnabled = false };

    [Fact]
    public void Mnist_TypedFieldInitializers_ClassifyTheReferenceDigitAsEight()
    {
        var model = OnnxModel.Load(TestData.Path("models", "mnist.onnx"));
        var digit = Tensor.FromArray(TestData.ReadValuesLine(TestData.Path("models", "reference", "mnist_28.csv")), 1, 1, 28, 28);
        var logits = model.Run(NoGradTape(), digit).ToArray();
        var reference = TestData.ReadIndexValue(TestData.Path("models", "reference", "Mnist_8_input_CPU.csv"));
        // Relative to the largest logit: the upstream image pipeline is undocumented (README: |Δ| ≈ 2.4 on logits up to 6081).
        double scale = reference.Max(v => Math.Abs(v));
        double maxRelative = logits.Zip(reference).Max(p => Math.Abs(p.First - p.Second)) / scale;
        output.WriteLine($"mnist: argmax {TestData.TopK(logits, 1)[0]}, max |Δ| / max|logit| = {maxRelative:E2}");
        Assert.Equal(8, TestData.TopK(logits, 1)[0]);
        Assert.True(maxRelative < 1e-3, $"max relative difference {maxRelative}");

        var layers = model.DescribeLayers();
        Assert.Equal(model.Nodes.Count, layers.Count);
        Assert.Equal([1, 10], layers[^1].OutputShapes[0]!);
        Assert.Null(model.OutputBeforeSoftmax);
        Assert.Null(model.FindCamHead(out var reason));
        Assert.Contains("GlobalAveragePool", reason);
    }

    [Fact]
    public void TruncatedFile_ThrowsInvalidDataException_NamingTheFile()
    {
        var bytes = File.ReadAllBytes(TestData.Path("models", "mnist.onnx"));
        var path = Path.Combine(Path.GetTempPath(), $"nanocam-truncated-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        try
        {
            var ex = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(path));
            Assert.Contains(path, ex.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void UnsupportedOperator_ThrowsNotSupported_WithOneLine()
    {
        var graph = new GraphProto { Name = "g" };
        graph.Input.Add(FloatInfo("x", 2, 3));
        graph.Output.Add(FloatInfo("y", 2, 3));
        // A text-feature operator outside what a CNN importer takes.
        graph.Node.Add(Node("TfIdfVectorizer", "mix", ["x"], ["y"]));
        var ex = Assert.Throws<NotSupportedException>(() => Load(graph, opset: 12));
        Assert.Equal("unsupported ONNX operator TfIdfVectorizer (node mix, opset 12)", ex.Message);
    }

    [Fact]
    public void WrongInputShape_ThrowsArgumentException_NamingInputAndBothShapes()
    {
        var model = OnnxModel.Load(TestData.Path("models", "mnist.onnx"));
        var ex = Assert.Throws<ArgumentException>(() => model.Run(NoGradTape(), Tensor.Zeros(1, 1, 32, 32)));
        Assert.Contains("Input3", ex.Message);
        Assert.Contains("[1, 1, 32, 32]", ex.Message);
        Assert.Contains("[1, 1, 28, 28]", ex.Message);
    }

    [Fact]
    public void MissingExternalDataFile_ThrowsFileNotFound_NamingTheLocation()
    {
        var weight = new TensorProto { Name = "w", DataType = (int)OnnxDataType.Float, DataLocation = TensorProto.Types.DataLocation.External };
        weight.Dims.Add(3);
        weight.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "missing-weights.bin" });
        var graph = new GraphProto();
        graph.Initializer.Add(weight);
        graph.Input.Add(FloatInfo("x", 3));
        graph.Output.Add(FloatInfo("y", 3));
        graph.Node.Add(Node("Add", "add", ["x", "w"], ["y"]));
        var ex = Assert.Throws<FileNotFoundException>(() => Load(graph, 13));
        Assert.Contains("missing-weights.bin", ex.Message);
        Assert.Contains("'w'", ex.Message);
    }

    [Fact]
    public void Float16Initializer_InInt32Data_IsWidenedToFloat32()
    {
        float[] values = [1.5f, -2.25f, 65504f, 0.000061035156f];
        var weight = new TensorProto { Name = "w", DataType = (int)OnnxDataType.Float16 };
        weight.Dims.Add(values.Length);
        foreach (var v in values) weight.Int32Data.Add(BitConverter.HalfToUInt16Bits((Half)v));
        var graph = new GraphProto();
        graph.Initializer.Add(weight);
        graph.Input.Add(FloatInfo("x", values.Length));
        graph.Output.Add(FloatInfo("y", values.Length));
        graph.Node.Add(Node("Add", "add", ["x", "w"], ["y"]));
        var model = Load(graph, 13);
        Assert.Equal(values, model.Parameters["w"].ToArray());
        Assert.Equal(values, model.Run(NoGradTape(), Tensor.Zeros(values.Length)).ToArray());
    }

    [Fact]
    public void ShapeArithmetic_IsFoldedOnTheHost_AndEveryFloatOutputIsPublished()
    {
        // y = Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])): [2, 3, 4] → [2, 12].
        var graph = new GraphProto();
        graph.Input.Add(FloatInfo("x", 2, 3, 4));
        graph.Output.Add(FloatInfo("y", 2, 12));
        graph.Initializer.Add(Int64Tensor("zero", [], [0]));
        graph.Initializer.Add(Int64Tensor("minus_one", [1], [-1]));
        graph.Initializer.Add(Int64Tensor("axes", [1], [0]));
        graph.Node.Add(Node("Shape", "shape", ["x"], ["s"]));
        graph.Node.Add(Node("Gather", "batch", ["s", "zero"], ["n"]));
        graph.Node.Add(Node("Unsqueeze", "unsqueeze", ["n", "axes"], ["n1"]));
        graph.Node.Add(Node("Concat", "concat", ["n1", "minus_one"], ["target"], ("axis", 0)));
        graph.Node.Add(Node("Relu", "relu", ["x"], ["r"]));
        graph.Node.Add(Node("Reshape", "reshape", ["r", "target"], ["y"]));
        var model = Load(graph, 13);
        var tape = NoGradTape();
        var x = Tensor.FromArray(Enumerable.Range(-12, 24).Select(i => (float)i).ToArray(), 2, 3, 4);
        var y = model.Run(tape, x);
        Assert.Equal([2, 12], y.Shape.ToArray());
        Assert.Equal(x.ToArray().Select(v => Math.Max(v, 0f)), y.ToArray());
        Assert.Same(y, tape.Find("y"));
        Assert.Equal([2, 3, 4], tape.Find("r").Shape.ToArray());
    }

    [Fact]
    public void GapGemmHead_IsDetected_WithTransposedWeights()
    {
        // x [1,2,3,3] → GlobalAveragePool → Flatten → Gemm(B [2 channels, 3 classes], transB=0, alpha 2) → Softmax.
        var graph = new GraphProto();
        graph.Input.Add(FloatInfo("x", 1, 2, 3, 3));
        graph.Output.Add(FloatInfo("p", 1, 3));
        graph.Initializer.Add(FloatTensor("B", [2, 3], [1, 2, 3, 4, 5, 6]));
        graph.Initializer.Add(FloatTensor("C", [3], [0.5f, 0, -0.5f]));
        graph.Node.Add(Node("GlobalAveragePool", "gap", ["x"], ["pooled"]));
        graph.Node.Add(Node("Flatten", "flatten", ["pooled"], ["flat"]));
        graph.Node.Add(Node("Gemm", "fc", ["flat", "B", "C"], ["logits"], ("alpha", 2f)));
        graph.Node.Add(Node("Softmax", "softmax", ["logits"], ["p"]));
        var model = Load(graph, 13);
        Assert.Equal("logits", model.OutputBeforeSoftmax);
        var head = model.FindCamHead();
        Assert.NotNull(head);
        Assert.Equal(("x", 3, 2, "gap-linear", "fc"), (head.FeatureLayer, head.Classes, head.Channels, head.Kind, head.ClassifierNode));
        Assert.Equal([2, 8, 4, 10, 6, 12], head.Weights);
        Assert.Equal([0.5f, 0, -0.5f], head.Bias!);

        // The scores equal Σ_k w[c,k]·GAP(A^k) + b_c, the identity CAM relies on.
        var x = Tensor.FromArray(Enumerable.Range(0, 18).Select(i => i * 0.1f).ToArray(), 1, 2, 3, 3);
        var scores = model.Scores(NoGradTape(), x).ToArray();
        float gap0 = Enumerable.Range(0, 9).Sum(i => i * 0.1f) / 9, gap1 = Enumerable.Range(9, 9).Sum(i => i * 0.1f) / 9;
        for (int c = 0; c < 3; c++)
            Assert.Equal(head.Weights[c * 2] * gap0 + head.Weights[c * 2 + 1] * gap1 + head.Bias![c], scores[c], 1e-5f);
    }
}
