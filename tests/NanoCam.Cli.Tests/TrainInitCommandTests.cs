using NanoCam.Autodiff;
using NanoCam.Cpu.Simd;
using NanoCam.Imaging;
using NanoCam.Onnx;
using NanoCam.Onnx.Training;

namespace NanoCam.Cli.Tests;

/// <summary>
/// <c>train --init</c> fine-tunes an imported graph (the ONNX tests' tiny PyTorch CNN) and <c>export</c> writes it back as
/// ONNX; the bad inputs each get one line and a non-zero exit.
/// </summary>
public sealed class TrainInitCommandTests : IDisposable
{
    private static readonly string Model = Path.Combine(AppContext.BaseDirectory, "Reference", "tiny_shapes_cnn.onnx");
    private readonly string _folder = Directory.CreateTempSubdirectory("nanocam-traininit-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void TrainInit_WithAFrozenModule_ThenExport_GivesAnOnnxFileWithTheTrainedWeightsAndTheFrozenOnesUntouched()
    {
        var checkpoint = Path.Combine(_folder, "tuned.safetensors");
        var (code, stdout, stderr) = CliHarness.Run("train", "--init", Model, "--data", "shapes:48", "--validation", "none", "--epochs", "1",
            "--batch", "16", "--lr", "0.01", "--freeze", "features.0,classifier.bias", "--out", checkpoint, "--threads", "1");
        Assert.True(code == 0, stderr);
        Assert.Contains("3 frozen", stdout);
        Assert.Contains($"wrote {checkpoint}", stdout);
        Assert.True(GraphCheckpoint.IsGraphCheckpoint(checkpoint));
        Assert.False(File.Exists(Path.ChangeExtension(checkpoint, ".json")));

        var exported = Path.Combine(_folder, "tuned.onnx");
        (code, stdout, stderr) = CliHarness.Run("export", "--model", checkpoint, "--out", exported);
        Assert.True(code == 0, stderr);
        Assert.Contains($"wrote {exported}", stdout);

        var original = OnnxModel.Load(Model);
        var tuned = OnnxModel.Load(exported);
        var (fromCheckpoint, info) = GraphCheckpoint.Load(checkpoint);
        Assert.Equal(original.Parameters.Keys.Order(), tuned.Parameters.Keys.Order());
        foreach (var (name, before) in original.Parameters)
        {
            bool frozen = name.StartsWith("onnx::Conv_", StringComparison.Ordinal) || name == "classifier.bias";
            // Batch norm's running statistics move in train mode (the default) although no optimizer steps them.
            Assert.True(frozen == before.ToArray().SequenceEqual(tuned.Parameters[name].ToArray()), $"{name}: frozen {frozen}");
        }
        Assert.Equal(1, info.Epoch);
        // The export runs to the checkpoint's logits, and predict reads its classes and preprocessing from it.
        var input = Tensor.FromArray(Enumerable.Range(0, 2 * 3 * 64 * 64).Select(i => MathF.Sin(i * 0.01f)).ToArray(), 2, 3, 64, 64);
        Assert.Equal(fromCheckpoint.Scores(new Tape(new SimdKernels(1)) { GradEnabled = false }, input).ToArray(),
            tuned.Scores(new Tape(new SimdKernels(1)) { GradEnabled = false }, input).ToArray());
        var image = Path.Combine(_folder, "square.png");
        var picture = new RgbImage(64, 64);
        for (int y = 20; y < 44; y++) for (int x = 20; x < 44; x++) picture[x, y] = new Rgb(1f, 1f, 1f);
        ImageCodec.SavePng(picture, image);
        var predictions = new List<string>();
        foreach (var model in new[] { checkpoint, exported })
        {
            (code, stdout, stderr) = CliHarness.Run("predict", "--model", model, "--image", image, "--top", "6");
            Assert.True(code == 0, stderr);
            Assert.DoesNotContain("no labels", stderr);
            Assert.DoesNotContain("assumed", stderr);
            predictions.Add(stdout.Trim().Split('\n')[^6..].Aggregate((a, b) => a + "\n" + b));
        }
        Assert.Contains("circle", predictions[0]);
        Assert.Equal(predictions[0], predictions[1]);
    }

    [Fact]
    public void AFreezePrefixThatMatchesNothing_IsOneLine_AndNothingIsWritten()
    {
        var checkpoint = Path.Combine(_folder, "never.safetensors");
        var (code, stdout, stderr) = CliHarness.Run("train", "--init", Model, "--data", "shapes:16", "--freeze", "layer4", "--out", checkpoint);
        Assert.NotEqual(0, code);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains("--freeze 'layer4' matches no parameter", stderr);
        Assert.Contains("features", stderr);
        Assert.False(File.Exists(checkpoint));
        Assert.DoesNotContain("epoch", stdout);
    }

    [Fact]
    public void AClassCountThatDiffersFromTheGraphs_IsOneLineNamingBoth()
    {
        var data = Path.Combine(_folder, "two-classes");
        foreach (var name in new[] { "cats", "dogs" })
        {
            Directory.CreateDirectory(Path.Combine(data, name));
            for (int i = 0; i < 2; i++) ImageCodec.SavePng(new RgbImage(64, 64), Path.Combine(data, name, $"{i}.png"));
        }
        var (code, _, stderr) = CliHarness.Run("train", "--init", Model, "--data", $"folder:{data}", "--out", Path.Combine(_folder, "x.safetensors"));
        Assert.NotEqual(0, code);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains("scores 6 classes", stderr);
        Assert.Contains("has 2 (cats, dogs)", stderr);
    }

    [Theory]
    [InlineData("train", "--freeze", "features.0", "is for fine-tuning an imported network")]
    [InlineData("train", "--bn-mode", "sideways", "--bn-mode must be train or eval")]
    [InlineData("export", "--model", "WEIGHTS", "export takes what train --init writes")]
    public void MisusedOptions_GetOneLine(string verb, string option, string value, string expected)
    {
        string[] args = verb == "export"
            ? ["export", "--model", Path.Combine(CliHarness.Weights, Directory.GetFiles(CliHarness.Weights, "*.safetensors").Select(Path.GetFileName).First()!), "--out", Path.Combine(_folder, "x.onnx")]
            : option == "--bn-mode" ? ["train", "--init", Model, "--data", "shapes:16", option, value] : ["train", "--data", "shapes:16", option, value];
        var (code, _, stderr) = CliHarness.Run(args);
        Assert.NotEqual(0, code);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains(expected, stderr);
    }
}
