using Google.Protobuf;
using NanoCam.Onnx;
using NanoCam.Onnx.Protos;
using static NanoCam.Onnx.Tests.TestGraphs;

namespace NanoCam.Cli.Tests;

/// <summary>
/// Bad ONNX input through the command line: an unsupported operator, a truncated or corrupted file, a missing
/// external-data file, an input of the wrong shape. Each gets one line `nanocam: error: …` naming the problem, a
/// non-zero exit, no stack trace, and no output file.
/// </summary>
public sealed class OnnxErrorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-onnx-errors").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Fish => Path.Combine(CliHarness.SharedData, "images", "fish.png");
    private static string SqueezeNet => Path.Combine(CliHarness.SharedData, "models", "SqueezeNet_fp32_from_fp16.onnx");
    private static readonly string[] SqueezeNetInput = ["--channel-order", "bgr", "--scale", "255", "--mean", "none", "--std", "none"];

    /// <summary>Runs <paramref name="verb"/> on <paramref name="model"/> and asserts the one-line failure containing <paramref name="expected"/>.</summary>
    private void AssertOneLineError(string verb, string model, string expected, params string[] extra)
    {
        var output = Path.Combine(_dir, "out.png");
        var args = new List<string> { verb, "--model", model };
        if (verb is "predict" or "explain" && !extra.Contains("--input")) args.AddRange(["--image", Fish]);
        if (verb == "explain") args.AddRange(["--method", "gradcam", "--out", output]);
        args.AddRange(extra);
        var (code, _, stderr) = CliHarness.Run([.. args]);
        Assert.NotEqual(0, code);
        var lines = stderr.Trim().Split('\n');
        Assert.Single(lines);
        Assert.StartsWith("nanocam: error: ", lines[0]);
        Assert.Contains(expected, lines[0]);
        Assert.DoesNotContain("   at ", stderr);
        Assert.False(File.Exists(output));
    }

    private string Write(string name, GraphProto graph, int opset)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, Model(graph, opset).ToByteArray());
        return path;
    }

    [Theory]
    [InlineData("layers")]
    [InlineData("predict")]
    [InlineData("explain")]
    public void UnsupportedOperator_NamesOpTypeNodeAndOpset(string verb)
    {
        var graph = new GraphProto { Name = "g" };
        graph.Input.Add(FloatInfo("x", 1, 3, 8, 8));
        graph.Output.Add(FloatInfo("y", 1, 3, 8, 8));
        // A text-feature operator outside what a CNN importer takes.
        graph.Node.Add(Node("TfIdfVectorizer", "mix", ["x"], ["y"]));
        AssertOneLineError(verb, Write("tfidf.onnx", graph, 12), "unsupported ONNX operator TfIdfVectorizer (node mix, opset 12)");
    }

    [Theory]
    [InlineData("layers")]
    [InlineData("predict")]
    [InlineData("explain")]
    public void TruncatedFile_SaysSoAndNamesTheFile(string verb)
    {
        var path = Path.Combine(_dir, "truncated.onnx");
        var bytes = File.ReadAllBytes(SqueezeNet);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 3)]);
        AssertOneLineError(verb, path, $"{path}: not a valid ONNX model");
    }

    [Fact]
    public void CorruptedFile_AnImageNamedOnnx_IsNotAValidModel()
    {
        var path = Path.Combine(_dir, "photo.onnx");
        File.Copy(Fish, path);
        AssertOneLineError("layers", path, "not a valid ONNX model");
    }

    [Theory]
    [InlineData("layers")]
    [InlineData("predict")]
    public void MissingExternalData_NamesTheTensorAndTheMissingFile(string verb)
    {
        var weight = new TensorProto { Name = "w", DataType = (int)OnnxDataType.Float, DataLocation = TensorProto.Types.DataLocation.External };
        weight.Dims.AddRange([1, 3, 8, 8]);
        weight.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "missing-weights.bin" });
        var graph = new GraphProto { Name = "g" };
        graph.Initializer.Add(weight);
        graph.Input.Add(FloatInfo("x", 1, 3, 8, 8));
        graph.Output.Add(FloatInfo("y", 1, 3, 8, 8));
        graph.Node.Add(Node("Add", "add", ["x", "w"], ["y"]));
        AssertOneLineError(verb, Write("external.onnx", graph, 13), "tensor 'w' is stored in the external data file 'missing-weights.bin', which was not found");
    }

    [Fact]
    public void Predict_WithACropOfTheWrongSize_NamesTheInputAndBothShapes() =>
        AssertOneLineError("predict", SqueezeNet, "graph input 'data_0' has shape [1, 3, 100, 100] but the model expects [1, 3, 224, 224]",
            [.. SqueezeNetInput, "--size", "100"]);

    [Fact]
    public void Explain_WithAnInputTensorOfTheWrongShape_NamesBothShapes()
    {
        var input = Path.Combine(_dir, "wrong.npy");
        Imaging.Npy.Write(input, new float[3 * 32 * 32], [1, 3, 32, 32]);
        AssertOneLineError("explain", SqueezeNet, "has shape [1, 3, 32, 32] but the model takes [N, 3, 224, 224]", "--input", input);
    }
}
