using NanoCam.Imaging;
using System.CommandLine;
using System.Text.Json;
using Google.Protobuf;
using NanoCam.Cli.Shared;
using NanoCam.Onnx;
using NanoCam.Onnx.Protos;
using NanoCam.Onnx.Tests;

namespace NanoCam.Cli.Tests;

/// <summary>
/// Preprocessing that travels with an ONNX model: a MODEL.preprocess.json sidecar or the model's metadata_props, flags over
/// sidecar over metadata over defaults; --save-preprocess writes the sidecar; without one, predict says what it assumed.
/// The shared models are linked into a temporary folder, never written beside.
/// </summary>
public sealed class PreprocessingSidecarTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-preprocess").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Shared(params string[] parts) => Path.Combine([CliHarness.SharedData, .. parts]);

    private static string BothPng => Shared("images", "both.png");

    /// <summary><paramref name="target"/> under <paramref name="name"/> in the temporary folder: a symbolic link, or a copy where links are not allowed.</summary>
    private string Link(string name, string target)
    {
        var path = Path.Combine(_dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        try { File.CreateSymbolicLink(path, target); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { File.Copy(target, path); }
        return path;
    }

    private string SqueezeNet() => Link("squeezenet.onnx", Shared("models", "SqueezeNet_fp32_from_fp16.onnx"));

    private static (PreprocessingOptions Options, ParseResult Parse) Flags(params string[] args)
    {
        var options = new PreprocessingOptions();
        var command = new Command("x");
        options.AddTo(command);
        return (options, command.Parse(args));
    }

    [Fact]
    public void EachSetting_ComesFromTheFlag_ThenTheSidecar_ThenTheMetadata_ThenTheDefault()
    {
        var sidecar = PreprocessingSettings.Parse("""{ "channel_order": "bgr", "scale": 255 }""", "sidecar", _dir);
        var metadata = PreprocessingSettings.FromMetadata(
            new Dictionary<string, string> { ["Image.BitmapPixelFormat"] = "Rgb8", ["Image.NominalPixelRange"] = "Normalized_1_1" }, "m.onnx")!;
        var (options, parse) = Flags("--scale", "2");

        var pre = options.Read(parse, 224, 3, [sidecar, metadata]);

        Assert.True(pre.Bgr);                       // the sidecar over the metadata's Rgb8
        Assert.Equal(2f, pre.Scale);                // the flag over the sidecar's 255
        Assert.Equal([0.5f, 0.5f, 0.5f], pre.Mean); // the metadata's Normalized_1_1 over the default imagenet
        Assert.Equal([0.5f, 0.5f, 0.5f], pre.Std);
        Assert.Equal(224, pre.Size);                // the model's input size
        Assert.Equal(["input_size", "resize"], pre.Defaulted);
    }

    [Fact]
    public void MetadataProps_NanocamKey_OverridesWindowsMlKeys_AndIsReadFromTheOnnxFile()
    {
        var graph = TestGraphs.Graph([TestGraphs.Node("Relu", ["x"], ["y"])], "x", "y");
        graph.Input[0] = TestGraphs.FloatInfo("x", 1, 3, 8, 8);
        graph.Output[0] = TestGraphs.FloatInfo("y", 1, 3, 8, 8);
        var proto = TestGraphs.Model(graph, 13);
        proto.MetadataProps.Add(new StringStringEntryProto { Key = "Image.NominalPixelRange", Value = "NominalRange_0_255" });
        proto.MetadataProps.Add(new StringStringEntryProto { Key = PreprocessingSettings.MetadataKey, Value = """{"scale": 1, "mean": "imagenet", "input_size": 8}""" });
        var model = OnnxModel.Load(proto.ToByteArray(), "relu.onnx");

        var settings = PreprocessingSettings.FromMetadata(model.MetadataProps, "relu.onnx")!;

        Assert.Equal(1f, settings.Scale);      // nanocam.preprocess over NominalRange_0_255's 255
        Assert.Equal("imagenet", settings.Mean);
        Assert.Equal("none", settings.Std);    // only Windows ML says it
        Assert.Equal(8, settings.InputSize);
    }

    [Fact]
    public void Serialize_ThenParse_GivesTheSamePreprocessing_WithLabelsRelativeToTheSidecar()
    {
        var labels = Link(Path.Combine("labels", "names.txt"), Shared("models", "imagenet_labels.txt"));
        var original = new Preprocessing(200, 256, 3, Bgr: true, Scale: 255f, Mean: [1.5f, 2f, 3f], Std: [0.25f, 1f, 4f]);
        var path = Path.Combine(_dir, "m.preprocess.json");

        PreprocessingSettings.Save(path, original, labels);
        var settings = PreprocessingSettings.ReadSidecar(Path.Combine(_dir, "m.onnx"))!;
        var (options, parse) = Flags();
        var read = options.Read(parse, 224, 3, [settings]);

        Assert.False(File.Exists(path + ".tmp"));
        Assert.Equal("labels/names.txt", JsonDocument.Parse(File.ReadAllText(path)).RootElement.GetProperty("labels").GetString());
        Assert.Equal(Path.GetFullPath(labels), Path.GetFullPath(settings.Labels!));
        Assert.Equal((original.Size, original.Resize, original.Bgr, original.Scale), (read.Size, read.Resize, read.Bgr, read.Scale));
        Assert.Equal(original.Mean, read.Mean);
        Assert.Equal(original.Std, read.Std);
        Assert.Empty(read.Defaulted);
    }

    [Fact]
    public void Predict_OnSqueezeNetWithItsSidecar_GivesBullMastiffWithItsLabel_WithoutFlags()
    {
        var model = SqueezeNet();
        Link(Path.Combine("labels", "imagenet.txt"), Shared("models", "imagenet_labels.txt"));
        File.WriteAllText(Path.Combine(_dir, "squeezenet.preprocess.json"),
            """{ "channel_order": "bgr", "scale": 255, "mean": "none", "std": "none", "input_size": 224, "labels": "labels/imagenet.txt" }""");

        var (code, stdout, stderr) = CliHarness.Run("predict", "--model", model, "--image", BothPng, "--json");
        Assert.True(code == 0, stderr);
        Assert.Equal("", stderr); // nothing assumed, so no note
        using var json = JsonDocument.Parse(stdout);
        var top = json.RootElement.GetProperty("topk")[0];
        // The data README's independent evaluation: 243 "bull mastiff" 0.792546.
        Assert.Equal(243, top.GetProperty("class").GetInt32());
        Assert.Equal("bull mastiff", top.GetProperty("label").GetString());
        Assert.InRange(top.GetProperty("probability").GetDouble(), 0.7915, 0.7935);

        // explain reads the same sidecar: Grad-CAM of the top class, named.
        (code, stdout, stderr) = CliHarness.Run("explain", "--model", model, "--image", BothPng, "--method", "gradcam", "--out", Path.Combine(_dir, "e.png"));
        Assert.True(code == 0, stderr);
        Assert.Contains("gradcam for class 243 (bull mastiff)", stdout);
    }

    [Fact]
    public void SavePreprocess_WritesTheSidecarFromTheFlags_AndTheNextRunNeedsNone()
    {
        var model = SqueezeNet();
        var (code, _, stderr) = CliHarness.Run("predict", "--model", model, "--channel-order", "bgr", "--scale", "255", "--mean", "none", "--std", "none",
            "--labels", Shared("models", "imagenet_labels.txt"), "--save-preprocess");
        Assert.True(code == 0, stderr);
        var sidecar = Path.Combine(_dir, "squeezenet.preprocess.json");
        Assert.True(File.Exists(sidecar), stderr);
        Assert.False(File.Exists(sidecar + ".tmp"));
        using (var json = JsonDocument.Parse(File.ReadAllText(sidecar)))
        {
            var root = json.RootElement;
            Assert.Equal("bgr", root.GetProperty("channel_order").GetString());
            Assert.Equal(255, root.GetProperty("scale").GetDouble());
            Assert.Equal(new[] { 0.0, 0.0, 0.0 }, root.GetProperty("mean").EnumerateArray().Select(v => v.GetDouble()));
            Assert.Equal(224, root.GetProperty("input_size").GetInt32());
            Assert.Equal(Path.GetFullPath(Shared("models", "imagenet_labels.txt")), Path.GetFullPath(Path.Combine(_dir, root.GetProperty("labels").GetString()!)));
        }

        (code, var stdout, stderr) = CliHarness.Run("predict", "--model", model, "--image", BothPng);
        Assert.True(code == 0, stderr);
        var first = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[0];
        Assert.Contains("243", first);
        Assert.Contains("79.25", first);
        Assert.Contains("bull mastiff", first);
    }

    [Fact]
    public void Predict_WithoutSidecar_SaysInOneLineWhatItAssumed_AndFindsSynsetTxtBesideTheModel()
    {
        var model = SqueezeNet();
        var names = File.ReadAllLines(Shared("models", "imagenet_labels.txt")).Where(l => l.Length > 0).Select(l => l[(l.IndexOf(',') + 1)..]).ToArray();
        File.WriteAllLines(Path.Combine(_dir, "synset.txt"), names.Select((name, i) => $"n{i:D8} {name}"));

        var (code, stdout, stderr) = CliHarness.Run("predict", "--model", model, "--image", BothPng, "--topk", "1");
        Assert.True(code == 0, stderr);
        var note = Assert.Single(stderr.Trim().Split('\n'));
        Assert.StartsWith("nanocam: note: ", note);
        Assert.Contains("assumed rgb, scale 1, mean imagenet, std imagenet, 224×224", note);
        Assert.Contains("--channel-order bgr --scale 255 --mean none --std none", note);
        Assert.Contains("--save-preprocess", note);
        Assert.DoesNotContain("no labels", note);
        // The "669 52.80 %" with a blank name, now named.
        Assert.Equal($"669   52.80 %  {names[669]}", stdout.Trim());
    }

    [Fact]
    public void Predict_OnMnist_ReadsWindowsMlMetadataProps_WithoutFlags()
    {
        var (code, stdout, stderr) = CliHarness.Run("predict", "--model", Shared("models", "mnist.onnx"), "--image", Shared("images", "mnist_28.png"), "--top", "1");
        Assert.True(code == 0, stderr);
        Assert.Equal("8", stdout.Trim().Split(' ')[0]);
        Assert.DoesNotContain("assumed", stderr); // Image.NominalPixelRange = NominalRange_0_255 said scale 255
    }

    [Theory]
    [InlineData("""{ "scale": "big" }""", "key \"scale\" must be a positive number")]
    [InlineData("""{ "chanel_order": "bgr" }""", "unknown key \"chanel_order\"")]
    [InlineData("""{ "mean": [1, 2, 3] }""", "key \"mean\": '1,2,3' has 3 number(s) but the model takes 1 channel(s)")]
    [InlineData("""{ "std": [0] }""", "key \"std\" must not contain 0")]
    [InlineData("""{ "input_size": 2.5 }""", "key \"input_size\" must be a positive whole number")]
    [InlineData("""{ "labels": "missing.txt" }""", "key \"labels\": label file")]
    [InlineData("""{ "scale": 255, """, "is not valid JSON")]
    public void MalformedSidecar_GetsOneLineNamingTheFileAndKey(string json, string expected)
    {
        var model = Link("mnist.onnx", Shared("models", "mnist.onnx"));
        File.WriteAllText(Path.Combine(_dir, "mnist.preprocess.json"), json);
        var (code, _, stderr) = CliHarness.Run("predict", "--model", model, "--image", Shared("images", "mnist_28.png"));
        Assert.NotEqual(0, code);
        var line = Assert.Single(stderr.Trim().Split('\n'));
        Assert.StartsWith("nanocam: error: ", line);
        Assert.Contains("mnist.preprocess.json", line);
        Assert.Contains(expected, line);
    }
}
