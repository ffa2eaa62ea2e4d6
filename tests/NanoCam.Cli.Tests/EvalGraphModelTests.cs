using Google.Protobuf;
using NanoCam.Autodiff;
using NanoCam.Cli.Shared;
using NanoCam.Cpu.Simd;
using NanoCam.Data;
using NanoCam.Nn.Training;
using NanoCam.Onnx.Protos;
using NanoCam.Onnx.Training;

namespace NanoCam.Cli.Tests;

/// <summary>
/// The imported networks of <see cref="EvalGraphModelTests"/>, made once: the ONNX tests' tiny PyTorch CNN cut after its
/// features with a new conv + GAP + FC head (<c>gap-surgery</c>), then fine-tuned one epoch (<c>train --init</c>).
/// </summary>
public sealed class EvalGraphModels : IDisposable
{
    private static readonly string Tiny = Path.Combine(AppContext.BaseDirectory, "Reference", "tiny_shapes_cnn.onnx");

    public string Folder { get; } = Directory.CreateTempSubdirectory("nanocam-evalgraph-").FullName;
    public string Onnx => Path.Combine(Folder, "x.onnx");
    public string Checkpoint => Path.Combine(Folder, "x.safetensors");

    public EvalGraphModels()
    {
        Assert.True(File.Exists(Tiny), Tiny);
        var (code, _, stderr) = CliHarness.Run("gap-surgery", "--model", Tiny, "--cut-after", "features", "--add-conv", "3x3x16", "--classes", "6", "--out", Onnx);
        Assert.True(code == 0, stderr);
        (code, _, stderr) = CliHarness.Run("train", "--init", Onnx, "--data", "shapes:256", "--epochs", "1", "--out", Checkpoint, "--threads", "1");
        Assert.True(code == 0, stderr);
    }

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}

/// <summary>
/// <c>nanocam eval</c> on imported networks — a graph checkpoint (<c>train --init</c>) and a plain .onnx file — with the
/// CAM paper's localization and top-5 protocol, checked against a direct count of the graph's predictions; a graph
/// without a CAM head is localized with Grad-CAM; mismatches with the data are one line each.
/// </summary>
public sealed class EvalGraphModelTests(EvalGraphModels models) : IClassFixture<EvalGraphModels>
{
    private const string Data = "shapes:120";

    [Fact]
    public void AGraphCheckpoint_GivesTheJsonKeys_AndTop1AccuracyEqualsADirectCountOfItsPredictions()
    {
        var (code, stdout, stderr) = CliHarness.Run("eval", "--model", models.Checkpoint, "--data", Data, "--localization", "--topk", "5", "--json", "--threads", "1");
        Assert.True(code == 0, stderr);
        Assert.Contains("the graph checkpoint's training normalization", stdout);
        Assert.Contains("; CAM ≥ 20% of max", stdout);
        using var json = CliHarness.LastLineJson(stdout);
        var root = json.RootElement;
        Assert.Equal(["accuracy", "examples", "per_class_accuracy", "localization_accuracy", "top5_accuracy", "top5_localization_accuracy"],
            root.EnumerateObject().Select(p => p.Name));
        double top1 = root.GetProperty("accuracy").GetDouble(), top5 = root.GetProperty("top5_accuracy").GetDouble();
        double loc = root.GetProperty("localization_accuracy").GetDouble(), top5Loc = root.GetProperty("top5_localization_accuracy").GetDouble();
        foreach (var value in new[] { top1, top5, loc, top5Loc }) Assert.InRange(value, 0, 1);
        Assert.Equal(ShapesDataset.ShapeNames, root.GetProperty("per_class_accuracy").EnumerateObject().Select(p => p.Name));
        Assert.True(top5 >= top1, $"top-5 {top5} < top-1 {top1}");
        // A top-1 hit is the true class at rank 1 with its own map's box right, so it is a top-5 hit too.
        Assert.True(top5Loc >= loc, $"top-5 localization {top5Loc} < top-1 {loc}");
        Assert.True(loc <= top1, $"localization {loc} > accuracy {top1}");

        // Independently: the checkpoint's graph on each test image, normalized by hand with its training mean and std.
        var (model, info) = GraphCheckpoint.Load(models.Checkpoint);
        var data = DataSpec.Parse(Data, "test");
        Assert.Equal(data.Count, root.GetProperty("examples").GetInt32());
        var tape = new Tape(new SimdKernels(1)) { GradEnabled = false };
        int right = 0, plane = data.Height * data.Width;
        for (int i = 0; i < data.Count; i++)
        {
            var image = data.GetImage(i);
            for (int c = 0; c < data.Channels; c++)
                for (int p = 0; p < plane; p++) image[c * plane + p] = (image[c * plane + p] - info.Mean[c]) / info.Std[c];
            tape.Reset();
            var scores = model.Scores(tape, Tensor.FromArray(image, 1, data.Channels, data.Height, data.Width)).ToArray();
            if (Metrics.ArgMax(scores) == data.GetLabel(i)) right++;
        }
        Assert.Equal(right, (int)Math.Round(top1 * data.Count));
    }

    [Fact]
    public void APlainOnnxFile_IsEvaluated_WithTheDataSetsOwnStatistics()
    {
        var (code, stdout, stderr) = CliHarness.Run("eval", "--model", models.Onnx, "--data", Data, "--localization", "--topk", "3", "--json", "--threads", "1");
        Assert.True(code == 0, stderr);
        Assert.Contains("the data set's own mean and std", stdout);
        using var json = CliHarness.LastLineJson(stdout);
        var root = json.RootElement;
        Assert.True(root.GetProperty("top3_accuracy").GetDouble() >= root.GetProperty("accuracy").GetDouble());
        Assert.True(root.GetProperty("top3_localization_accuracy").GetDouble() >= root.GetProperty("localization_accuracy").GetDouble());
    }

    [Fact]
    public void TheCheckpointExportedAsOnnx_IsNormalizedFromItsMetadataProps_AndScoresAsTheCheckpointDoes()
    {
        var exported = Path.Combine(models.Folder, "exported.onnx");
        var (code, _, stderr) = CliHarness.Run("export", "--model", models.Checkpoint, "--out", exported);
        Assert.True(code == 0, stderr);
        var lines = new List<string>();
        foreach (var model in new[] { models.Checkpoint, exported })
        {
            (code, var stdout, stderr) = CliHarness.Run("eval", "--model", model, "--data", Data, "--localization", "--topk", "2", "--json", "--threads", "1");
            Assert.True(code == 0, stderr);
            Assert.Equal(model == exported, stdout.Contains("(the model's preprocessing: rgb, scale 1, mean "));
            lines.Add(stdout.TrimEnd().Split('\n')[^1]);
        }
        Assert.Equal(lines[0], lines[1]);
    }

    [Fact]
    public void AGraphWithoutACamHead_IsLocalizedWithGradCam_WhichMatchesCamOnTheSameScores()
    {
        // A ReLU between the pooling and the classifier hides the head from the CAM-head search but changes no score
        // (the pooled features are already ≥ 0), and for GAP → linear Grad-CAM's map is CAM's divided by h·w: the same boxes.
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(models.Onnx));
        var nodes = proto.Graph.Node;
        int at = nodes.ToList().FindIndex(n => n.OpType == "GlobalAveragePool");
        string pooled = nodes[at].Output[0], rectified = pooled + "_relu";
        foreach (var node in nodes)
            for (int i = 0; i < node.Input.Count; i++)
                if (node.Input[i] == pooled) node.Input[i] = rectified;
        var relu = new NodeProto { OpType = "Relu", Name = "hide_head" };
        relu.Input.Add(pooled);
        relu.Output.Add(rectified);
        nodes.Insert(at + 1, relu);
        var headless = Path.Combine(models.Folder, "headless.onnx");
        File.WriteAllBytes(headless, proto.ToByteArray());

        var results = new List<string>();
        foreach (var model in new[] { models.Onnx, headless })
        {
            var (code, stdout, stderr) = CliHarness.Run("eval", "--model", model, "--data", Data, "--localization", "--topk", "5", "--json", "--threads", "1");
            Assert.True(code == 0, stderr);
            Assert.Equal(model == headless, stdout.Contains("Grad-CAM at the default layer (the model has no GAP/GMP → FC head for CAM)"));
            results.Add(stdout.TrimEnd().Split('\n')[^1]);
        }
        Assert.Equal(results[0], results[1]);
    }

    [Fact]
    public void AClassCountOtherThanTheDatas_IsOneLine()
    {
        var tiny = Path.Combine(AppContext.BaseDirectory, "Reference", "tiny_shapes_cnn.onnx");
        var ten = Path.Combine(models.Folder, "ten.onnx");
        var (code, _, stderr) = CliHarness.Run("gap-surgery", "--model", tiny, "--cut-after", "features", "--classes", "10", "--out", ten);
        Assert.True(code == 0, stderr);
        (code, _, stderr) = CliHarness.Run("eval", "--model", ten, "--data", Data);
        Assert.Equal(1, code);
        Assert.Equal("nanocam: error: ten.onnx scores 10 classes but shapes (120 × 3×64×64, seed 2) has 6", stderr.Trim());
    }

    [Fact]
    public void AFixedImageSizeOtherThanTheDatas_IsOneLineNamingBoth()
    {
        var mnist = Path.Combine(CliHarness.SharedData, "mnist");
        var (code, _, stderr) = CliHarness.Run("eval", "--model", models.Checkpoint, "--data", $"idx:{mnist}#0-10");
        Assert.Equal(1, code);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains("x.safetensors takes 64×64 images but idx ", stderr);
        Assert.Contains("is 28×28; eval does not resize the data", stderr);
    }

    [Fact]
    public void OneChannelImages_AreReplicatedToEveryChannel()
    {
        var gray = Tensor.FromArray([1, 2, 3, 4, 5, 6, 7, 8], 2, 1, 2, 2);
        var rgb = Evaluation.Replicate(gray, 3);
        Assert.Equal([2, 3, 2, 2], rgb.Shape.ToArray());
        Assert.Equal([1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8, 5, 6, 7, 8, 5, 6, 7, 8], rgb.ToArray());
        Assert.Same(gray, Evaluation.Replicate(gray, 1));
    }
}
