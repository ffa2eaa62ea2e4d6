using NanoCam.Cli.Shared;
using NanoCam.Data;
using NanoCam.Imaging;
using NanoCam.Nn.Models;
using NanoCam.Nn.Training;

namespace NanoCam.Cli.Tests;

/// <summary>
/// <c>--target</c> beyond <c>explain</c>: explain-dataset and evaluate-explanations explain the named scalar for every
/// image (the tiny exported segmentation network of the target references); and the native dense networks —
/// <c>train --arch seg-fcn|det-grid</c> on the shapes masks — are explained with <c>segmentation:K</c> and <c>box:…</c>.
/// </summary>
public sealed class DenseTargetCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-dense").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Segmenter => Path.Combine(CliHarness.RepoRoot, "tests", "NanoCam.Explain.Tests", "Reference", "targets", "segmenter.onnx");

    private string[] ExplainDataset(string output, params string[] extra) =>
        ["explain-dataset", "--model", Segmenter, "--data", "shapes#0-4", "--layer", "trunk", "--threads", "1", "--csv", "--out", output, .. extra];

    [Fact]
    public void ExplainDataset_WithATarget_ExplainsThatScalarForEveryImage()
    {
        var (code, stdout, stderr) = CliHarness.Run(ExplainDataset(Path.Combine(_dir, "seg"), "--target", "segmentation:1"));
        Assert.True(code == 0, stderr);
        Assert.Contains("gradcam for segmentation:1 at layer 'trunk'", stdout);
        var (rows, _) = ResultsTable.ReadParquet(Path.Combine(_dir, "seg", "results.parquet"));
        Assert.Equal(4, rows.Count);
        Assert.All(rows, r => Assert.Equal("segmentation:1", r.Target));

        // The same images for their top class give other maps: the target is what was explained.
        var top = CliHarness.Run(ExplainDataset(Path.Combine(_dir, "top")));
        Assert.True(top.ExitCode == 0, top.Stderr);
        var (segmentation, _) = Npy.Read(Path.Combine(_dir, "seg", "maps", "gradcam", "chunk-0.npy"));
        var (predicted, _) = Npy.Read(Path.Combine(_dir, "top", "maps", "gradcam", "chunk-0.npy"));
        Assert.Equal(predicted.Length, segmentation.Length);
        Assert.True(segmentation.Zip(predicted).Max(p => Math.Abs(p.First - p.Second)) > 0.1f);
    }

    [Fact]
    public void ExplainDataset_ATargetWithMetricsOrTargets_IsOneLine()
    {
        var metrics = CliHarness.Run(ExplainDataset(Path.Combine(_dir, "m"), "--target", "segmentation:1", "--metrics"));
        Assert.Equal(2, metrics.ExitCode);
        Assert.Equal("nanocam: error: --metrics: the metrics measure a class's score, and --target segmentation:1 is not one", metrics.Stderr.Trim());
        var both = CliHarness.Run(ExplainDataset(Path.Combine(_dir, "b"), "--target", "segmentation:1", "--targets", "true"));
        Assert.Equal(2, both.ExitCode);
        Assert.Equal("nanocam: error: --target and --targets name what to explain two ways: give one", both.Stderr.Trim());
    }

    [Fact]
    public void EvaluateExplanations_WithATarget_ScoresTheMapsOfThatScalar()
    {
        string[] Run(params string[] extra) => ["evaluate-explanations", "--model", Segmenter, "--data", "shapes", "--count", "4", "--layer", "trunk",
            "--methods", "gradcam,layercam", "--threads", "1", "--json", .. extra];
        var (code, stdout, stderr) = CliHarness.Run(Run("--target", "segmentation:1", "--metrics", "complexity,localization"));
        Assert.True(code == 0, stderr);
        var json = CliHarness.LastLineJson(stdout).RootElement;
        Assert.Equal(2, json.GetArrayLength());
        var untargeted = CliHarness.LastLineJson(CliHarness.Run(Run("--metrics", "complexity,localization")).Stdout).RootElement;
        // Sparseness of the segmentation maps is not that of the top-class maps.
        double Sparseness(System.Text.Json.JsonElement e) => e[0].GetProperty("complexity").GetProperty("sparseness").GetDouble();
        Assert.NotEqual(Sparseness(untargeted), Sparseness(json), 6);

        var faithfulness = CliHarness.Run(Run("--target", "segmentation:1", "--metrics", "faithfulness"));
        Assert.Equal(2, faithfulness.ExitCode);
        Assert.StartsWith("nanocam: error: --target segmentation:1: faithfulness and sanity measure a class's score", faithfulness.Stderr.Trim());
    }

    [Theory]
    [InlineData("seg-fcn")]
    [InlineData("det-grid")]
    public void NativeDenseNetwork_TrainsOnTheShapesMasks_AndExplainsItsTarget(string architecture)
    {
        string model = Path.Combine(_dir, $"{architecture}.safetensors");
        var train = CliHarness.Run("train", "--arch", architecture, "--data", "shapes#0-64", "--validation", "shapes#0-32", "--epochs", "1", "--batch", "32",
            "--threads", "1", "--out", model);
        Assert.True(train.ExitCode == 0, train.Stderr);

        // The target: class 0's region for the segmenter; for the detector, its most confident box on the image, read here.
        var data = new ShapesDataset(1, DataSpec.ShapesTestSeed);
        var image = data.GetImage(0);
        string png = Path.Combine(_dir, "image.png");
        Imaging.ImageCodec.SavePng(Imaging.RgbImage.FromPlanar(image, 3, 64, 64), png);
        string target = "segmentation:0";
        if (architecture == "det-grid")
        {
            var trained = TrainedModel.Load(model);
            var input = Explain.ImageInput.FromImage(Imaging.RgbImage.FromPlanar(image, 3, 64, 64), trained.Metadata);
            var tape = new Autodiff.Tape(new Cpu.Simd.SimdKernels(1)) { GradEnabled = false };
            var rows = trained.Model.Call(tape, input).ToArray();
            var (_, box, _) = DenseQuality.BestBox(rows, rows.Length / 11, 11);
            target = FormattableString.Invariant($"box:{box.X1:0.##},{box.Y1:0.##},{box.X2:0.##},{box.Y2:0.##}");
        }
        var (code, stdout, stderr) = CliHarness.Run("explain", "--model", model, "--image", png, "--target", target, "--threads", "1",
            "--out", Path.Combine(_dir, "out.png"), "--save-map", Path.Combine(_dir, "map.npy"));
        Assert.True(code == 0, stderr);
        Assert.Contains($"gradcam for target {target.Split(',')[0]}", stdout);
        var (map, shape) = Npy.Read(Path.Combine(_dir, "map.npy"));
        Assert.Equal([64, 64], shape);
        Assert.All(map, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void AClassifierCommand_OnADenseCheckpoint_IsOneLine()
    {
        string model = Path.Combine(_dir, "seg.safetensors");
        Assert.Equal(0, CliHarness.Run("train", "--arch", "seg-fcn", "--data", "shapes#0-32", "--validation", "none", "--epochs", "1", "--batch", "32", "--threads", "1", "--out", model).ExitCode);
        var (code, _, stderr) = CliHarness.Run("eval", "--model", model, "--data", "shapes#0-8", "--threads", "1");
        Assert.NotEqual(0, code);
        Assert.Equal("nanocam: error: this model is a seg-fcn (a dense output: segmentation maps or boxes); this needs a classifier", stderr.Trim());
    }
}
