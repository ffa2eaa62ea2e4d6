using NanoCam.Imaging;
using NanoCam.Cli.Shared;

namespace NanoCam.Cli.Tests;

/// <summary>
/// <c>explain --method all</c> and <c>--method a,b,c</c>: every method that applies writes what it would write alone with
/// <c>--out OUT_&lt;method&gt;.png --save-map MAP_&lt;method&gt;.npy</c>, <c>--out</c> gets the montage, a method that does not
/// apply is one <c>skipped</c> line on stderr with its reason, and the exit code is 0 when the others ran.
/// </summary>
public sealed class ExplainMethodListTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-method-list").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly string[] Every =
    [
        "cam", "gradcam", "gradcam++", "smoothgradcam++", "xgradcam", "hirescam", "gradcam-elementwise", "layercam",
        "scorecam", "sscam", "iscam", "ablationcam", "eigencam", "eigengradcam", "fullgrad", "random", "counterfactual-gradcam",
        "kpcacam", "shapleycam", "finercam", "fem",
        "guided-backprop", "guided-gradcam", "saliency", "deconvnet", "input-x-gradient", "integrated-gradients", "smoothgrad",
        "smoothgrad-sq", "occlusion", "lrp", "gradcam-lrp", "fgcam", "fgcam-denoise",
    ];

    private static string Data(params string[] parts) => Path.Combine([CliHarness.SharedData, .. parts]);

    private static readonly string[] SqueezeNetInput = ["--channel-order", "bgr", "--scale", "255", "--mean", "none", "--std", "none"];

    /// <summary>explain on mnist.onnx and mnist_28.png with --method <paramref name="methods"/>, --out OUT.png and --save-map MAP.npy in the test folder.</summary>
    private (int Code, string Stdout, string Stderr) Mnist(string methods, string output = "out", string map = "map") => CliHarness.Run(
        "explain", "--model", Data("models", "mnist.onnx"), "--image", Data("images", "mnist_28.png"), "--scale", "255", "--method", methods,
        "--out", Path.Combine(_dir, $"{output}.png"), "--save-map", Path.Combine(_dir, $"{map}.npy"));

    private string[] Written() => [.. Directory.GetFiles(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];

    private static string[] FilesOf(IEnumerable<string> methods, string montage = "out.png") =>
        [.. methods.SelectMany(m => new[] { $"out_{m}.png", $"map_{m}.npy" }).Append(montage).Order(StringComparer.Ordinal)];

    [Fact]
    public void ExplainMethodAll_OnSqueezeNet_WritesEveryApplicableMethod_AndExitsZero()
    {
        // The command of issue 23: it stopped at cam (whose class weights apply to fire9/concat_1, not the default conv10_2).
        var (code, stdout, stderr) = CliHarness.Run(TimeSpan.FromMinutes(30),
            ["explain", "--model", Data("models", "SqueezeNet_fp32_from_fp16.onnx"), "--image", Data("images", "both.png"), "--method", "all",
             "--out", Path.Combine(_dir, "out.png"), "--save-map", Path.Combine(_dir, "map.npy"), .. SqueezeNetInput]);
        Assert.True(code == 0, stderr);
        // Only the attention map of an Attention Branch Network does not apply here.
        Assert.Equal("nanocam: skipped abn-attention: this network has no attention branch (train one with --arch abn-vgg or abn-resnet)",
            Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => line.Contains("skipped")));
        Assert.Equal(FilesOf(Every), Written());
        Assert.Contains("cam for class 243 (bull mastiff) at layer 'fire9/concat_1'", stdout);
        Assert.Contains("gradcam for class 243 (bull mastiff) at layer 'conv10_2'", stdout);
        foreach (var method in Every)
        {
            var (values, shape) = Npy.Read(Path.Combine(_dir, $"map_{method}.npy"));
            Assert.Equal(MethodList.IsInputSpace(method) ? [method is "occlusion" or "gradcam-lrp" ? 1 : 3, 224, 224] : [224, 224], shape);
            Assert.All(values, v => Assert.True(float.IsFinite(v), method));
        }
        // CAM for the bull mastiff peaks on the dog's head (the data README: cell (2, 6) of 13×13, the upper middle).
        var (cam, _) = Npy.Read(Path.Combine(_dir, "map_cam.npy"));
        int peak = Array.IndexOf(cam, cam.Max());
        Assert.True(peak / 224 < 112 && peak % 224 is > 60 and < 170, $"cam peaks at ({peak % 224}, {peak / 224})");
        // The montage: the input, then 19 overlays, five to a row, each under its label; the layout Montage.Labelled gives
        // 20 panels of 224 px under a title (the methods ran at two layers, so the title names only the class).
        var montage = ImageCodec.Load(Path.Combine(_dir, "out.png"));
        var layout = Montage.Labelled([.. Enumerable.Range(0, 1 + Every.Length).Select(_ => new RgbImage(224, 224))], ["input", .. Every], 5, "class 243 (bull mastiff)");
        Assert.Equal((layout.Image.Width, layout.Image.Height), (montage.Width, montage.Height));
        Assert.Equal(1 + Every.Length, layout.Panels.Count);
        Assert.All(layout.Panels, panel => Assert.Equal((224, 224), (panel.Width, panel.Height)));
    }

    [Fact]
    public void ExplainMethodAll_OnAGapLessModel_SkipsCamWithItsReason_AndWritesTheOthers()
    {
        var (code, stdout, stderr) = Mnist("all");
        Assert.True(code == 0, stderr);
        var skipped = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(line => line.Contains("skipped")).ToArray();
        Assert.Equal(["nanocam: skipped cam: this network has no global-average-pooling + linear classifier head; use gradcam",
            "nanocam: skipped abn-attention: this network has no attention branch (train one with --arch abn-vgg or abn-resnet)"], skipped);
        Assert.Equal(FilesOf(Every.Skip(1)), Written());
        Assert.Contains($"{Every.Length - 1} method(s) for class 8", stdout);
    }

    [Fact]
    public void ExplainMethodList_WritesExactlyThoseMethods()
    {
        var (code, stdout, stderr) = Mnist("gradcam,scorecam");
        Assert.True(code == 0, stderr);
        Assert.Equal(FilesOf(["gradcam", "scorecam"]), Written());
        Assert.Contains($"written to {Path.Combine(_dir, "out_scorecam.png")}", stdout);
        // Each file is what the method writes alone.
        var alone = Path.Combine(_dir, "alone.npy");
        (code, _, stderr) = Mnist("scorecam", output: "alone", map: "alone");
        Assert.True(code == 0, stderr);
        Assert.Equal(Npy.Read(alone).Data, Npy.Read(Path.Combine(_dir, "map_scorecam.npy")).Data);
    }

    [Fact]
    public void ExplainOneMethod_WritesOnlyOutAndMap_AsBefore()
    {
        var (code, stdout, stderr) = Mnist("fullgrad");
        Assert.True(code == 0, stderr);
        Assert.Equal(["map.npy", "out.png"], Written());
        Assert.Contains($"fullgrad for class 8 at layer 'Pooling160_Output_0' written to {Path.Combine(_dir, "out.png")}", stdout);
    }

    [Fact]
    public void ExplainMethodList_OnABatch_WritesEveryImageOfEveryMethod()
    {
        // mnist_28.png's gray values and their negative, as [2, 1, 28, 28] (in a subfolder: Written() lists the outputs only).
        var digit = File.ReadAllText(Data("models", "reference", "mnist_28.csv")).Split(',', StringSplitOptions.TrimEntries).Select(float.Parse).ToArray();
        var input = Path.Combine(Directory.CreateDirectory(Path.Combine(_dir, "in")).FullName, "batch.npy");
        Npy.Write(input, [.. digit, .. digit.Select(v => 255f - v)], [2, 1, 28, 28]);
        var (code, _, stderr) = CliHarness.Run("explain", "--model", Data("models", "mnist.onnx"), "--input", input, "--method", "gradcam,fullgrad",
            "--out", Path.Combine(_dir, "out.png"), "--save-map", Path.Combine(_dir, "map.npy"));
        Assert.True(code == 0, stderr);
        Assert.Equal(
            ["map_fullgrad.npy", "map_gradcam.npy", "out_0.png", "out_1.png", "out_fullgrad_0.png", "out_fullgrad_1.png", "out_gradcam_0.png", "out_gradcam_1.png"],
            Written());
        Assert.Equal([2, 28, 28], Npy.Read(Path.Combine(_dir, "map_fullgrad.npy")).Shape);
    }

    [Fact]
    public void ExplainMethodList_WithAnUnknownName_ListsTheKnownMethods_ExitsTwo_AndWritesNothing()
    {
        var (code, _, stderr) = Mnist("gradcam,nosuchcam");
        Assert.Equal(2, code);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("nanocam: error: unknown method 'nosuchcam' in --method (known: cam, gradcam, ", line);
        Assert.Contains("smoothgrad-sq, occlusion, lrp, gradcam-lrp, fgcam, fgcam-denoise, all)", line);
        Assert.Empty(Written());
    }

    [Fact]
    public void ExplainMethodList_AtALayerNoMethodCanExplain_FailsOnceWithOneLine_AndWritesNothing()
    {
        // The scores [1, 10] are not a spatial layer: every method would fail alike, so the run stops before the first.
        var (code, _, stderr) = CliHarness.Run("explain", "--model", Data("models", "mnist.onnx"), "--image", Data("images", "mnist_28.png"), "--scale", "255",
            "--method", "gradcam,fullgrad,scorecam", "--layer", "Plus214_Output_0", "--out", Path.Combine(_dir, "out.png"));
        Assert.Equal(1, code);
        Assert.Equal("nanocam: error: layer 'Plus214_Output_0' is not spatial: its output has shape [1, 10], CAM needs [N, K, h, w]", stderr.Trim());
        Assert.Empty(Written());
    }

    [Fact]
    public void ExplainOneMethod_ThatDoesNotApply_FailsWithOneLine_AndWritesNothing()
    {
        var (code, _, stderr) = Mnist("cam");
        Assert.Equal(1, code);
        Assert.Equal("nanocam: error: cam: this network has no global-average-pooling + linear classifier head; use gradcam", stderr.Trim());
        Assert.Empty(Written());
    }
}
