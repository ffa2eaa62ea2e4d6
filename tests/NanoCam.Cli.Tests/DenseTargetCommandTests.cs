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
        Assert.Contains("gradcam for segmentation:1 at layer", stdout);
        var (rows, _) = ResultsTable.ReadParquet(Path.Combine(_dir, "seg", "results.parquet"));
        Assert.Equal(4, rows.Count);
        Assert.All(rows, r => Assert.Equal("segmentation:1", r.Target));

        // Another class's region gives other maps: the target is what was explained. (The top prediction would not do: it is
        // one pixel of a class map, and with this network's linear head Grad-CAM of a pixel of class K is that of K's region.)
        var other = CliHarness.Run(ExplainDataset(Path.Combine(_dir, "other"), "--target", "segmentation:2"));
        Assert.True(other.ExitCode == 0, other.Stderr);
        var (segmentation, _) = Npy.Read(Path.Combine(_dir, "seg", "maps", "gradcam", "chunk-00000.npy"));
        var (predicted, _) = Npy.Read(Path.Combine(_dir, "other", "maps", "gradcam", "chunk-00000.npy"));
        Assert.Equal(predicted.Length, segmentation.Length);
        Assert.True(segmentation.Zip(predicted).Max(p => Math.Abs(p.First - p.Second)) > 0.1f);
    }

    [Fact]
    public void ExplainDataset_ATargetWithMetricsOrTargets_IsOneLine()
    {
        var metrics = CliHarness.Run(ExplainDataset(Path.Combine(_dir, "m"), "--target", "segmentation:1", "--metrics"));
        Assert.Equal(1, metrics.ExitCode);
        Assert.Equal("nanocam: error: --metrics: the metrics measure a class's score, and --target segmentation:1 is not one", metrics.Stderr.Trim());
        var both = CliHarness.Run(ExplainDataset(Path.Combine(_dir, "b"), "--target", "segmentation:1", "--targets", "true"));
        Assert.Equal(1, both.ExitCode);
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
        var other = CliHarness.LastLineJson(CliHarness.Run(Run("--target", "segmentation:2", "--metrics", "complexity,localization")).Stdout).RootElement;
        // The sparseness of class 1's maps is not that of class 2's: the target is what was scored.
        double Sparseness(System.Text.Json.JsonElement e) => e[0].GetProperty("sparseness").GetDouble();
        Assert.NotEqual(Sparseness(other), Sparseness(json), 6);

        var faithfulness = CliHarness.Run(Run("--target", "segmentation:1", "--metrics", "faithfulness"));
        Assert.Equal(1, faithfulness.ExitCode);
        Assert.StartsWith("nanocam: error: --target segmentation:1: faithfulness and sanity measure a class's score", faithfulness.Stderr.Trim());
    }

    /// <summary>
    /// The exported YOLO-style detector of the target references (torchvision-free, raw output [1, 16, 4 + 1 + 3], made by
    /// make_target_references.py): <c>explain --target box:…</c> saves the map of PyTorch autograd's Grad-CAM of the same
    /// scalar (Σ objectness × class score over the boxes with IoU ≥ 0.5), up to the min–max scaling: Pearson r ≥ 0.99.
    /// </summary>
    [Theory]
    [InlineData("box:2,2,10,11", "detector.box.npy")]
    [InlineData("box:2,2,10,11,2", "detector.box-2.npy")]
    public void Explain_OnTheExportedDetector_MatchesPyTorchAutograd(string target, string reference)
    {
        string folder = Path.GetDirectoryName(Segmenter)!, map = Path.Combine(_dir, "box.npy");
        var (code, _, stderr) = CliHarness.Run("explain", "--model", Path.Combine(folder, "detector.onnx"), "--input", Path.Combine(folder, "input.npy"),
            "--layer", "trunk", "--target", target, "--detector-layout", "yolo", "--threads", "1", "--out", Path.Combine(_dir, "box.png"), "--save-map", map);
        Assert.True(code == 0, stderr);
        var actual = Npy.Read(map).Data;
        var expected = Npy.Read(Path.Combine(folder, reference)).Data;
        Assert.Equal(expected.Length, actual.Length);
        double ma = actual.Average(), me = expected.Average(), sae = 0, saa = 0, see = 0;
        for (int i = 0; i < actual.Length; i++) { sae += (actual[i] - ma) * (expected[i] - me); saa += (actual[i] - ma) * (actual[i] - ma); see += (expected[i] - me) * (expected[i] - me); }
        double r = sae / Math.Sqrt(saa * see);
        Assert.True(r >= 0.99, $"{target}: Pearson r = {r:F5}");
    }

    [Fact]
    public async Task Serve_ExplainRequest_TakesATarget()
    {
        string png = Path.Combine(_dir, "shape.png");
        ImageCodec.SavePng(RgbImage.FromPlanar(new ShapesDataset(1, DataSpec.ShapesTestSeed).GetImage(0), 3, 64, 64), png);
        var body = File.ReadAllBytes(png);
        using var server = ServeProcess.Start(["--model", Segmenter, "--threads", "1"]);
        using var client = new HttpClient { BaseAddress = server.Url, Timeout = TimeSpan.FromMinutes(2) };
        async Task<(int Status, string Text)> Post(string query)
        {
            using var response = await client.PostAsync("api/explain?method=gradcam&layer=trunk" + query, new ByteArrayContent(body));
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        var segmentation = await Post("&target=segmentation%3A1");
        Assert.True(segmentation.Status == 200, segmentation.Text);
        var top = await Post("&target=segmentation%3A2");
        Assert.Equal(200, top.Status);
        double[] MapOf(string json) => [.. System.Text.Json.JsonDocument.Parse(json).RootElement.GetProperty("map").GetProperty("values").EnumerateArray().Select(v => v.GetDouble())];
        Assert.True(MapOf(segmentation.Text).Zip(MapOf(top.Text)).Max(p => Math.Abs(p.First - p.Second)) > 0.1);

        var box = await Post("&target=box%3A1%2C1%2C5%2C5");
        Assert.Equal(400, box.Status);
        Assert.Contains("box needs a detector's output [N, boxes, 4 + 1 + classes]", box.Text);
        var both = await Post("&target=segmentation%3A1&class=1");
        Assert.Equal(400, both.Status);
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
}
