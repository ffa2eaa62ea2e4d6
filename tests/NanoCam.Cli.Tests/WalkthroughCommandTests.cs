using NanoCam.Nn.Models;
using NanoCam.Cli.Shared;
using NanoCam.Cpu.Simd;
using NanoCam.Data;
using NanoCam.Explain;
using NanoCam.Imaging;

namespace NanoCam.Cli.Tests;

/// <summary>
/// <c>nanocam walkthrough</c> end to end: the page is written with every step, its numbers are the library record's
/// (recomputed here in-process on the same kernels), it loads in headless Chromium, and bad input writes nothing.
/// </summary>
public sealed class WalkthroughCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-walkthrough").FullName;

    /// <summary>Z = positions of shapes-vgg's last map (32×32 for a 64×64 input): CAM / Grad-CAM = Z on a GAP network.</summary>
    private const int Z = 32 * 32;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The repository's weights/ folder (the test runs from tests/NanoCam.Cli.Tests/bin/Release/net10.0).</summary>
    private static string Checkpoint(string name) => Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../weights", name));

    /// <summary>Test image 0 of the embedded shapes data (a triangle) as a PNG.</summary>
    private string ShapesImage()
    {
        var shapes = new ShapesDataset(1, seed: 2);
        var path = Path.Combine(_dir, "triangle.png");
        ImageCodec.SavePng(RgbImage.FromPlanar(shapes.GetImage(0), 3, 64, 64), path);
        return path;
    }

    private static string[] Sections(bool gap) =>
    [
        "1. The input", "2. Feature maps", "3. Channel weights", "4. Weighted sum of the maps, then ReLU",
        "5. Bilinear upsampling", "6. The overlay", .. gap ? new[] { "7. CAM and Grad-CAM side by side", "8. The class score, rebuilt from the maps" } : [],
    ];

    [Fact]
    public void ShapesVgg_Cam_WritesOneSelfContainedPageWithEveryStepAndTheRecordsNumbers()
    {
        var image = ShapesImage();
        var outDir = Path.Combine(_dir, "page");
        var (code, stdout, stderr) = CliHarness.Run("walkthrough", "--model", Checkpoint("shapes-vgg.safetensors"), "--image", image, "--threads", "1", "--out", outDir);
        Assert.True(code == 0, stderr);
        Assert.Equal(["index.html"], Directory.GetFiles(outDir).Select(Path.GetFileName));
        var html = File.ReadAllText(Path.Combine(outDir, "index.html"));
        foreach (var section in Sections(gap: true)) Assert.Contains(section, html);
        Assert.Contains("<title>CAM step by step: class 2 (triangle)</title>", html); // a name that says more than the index is kept
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org/2000/svg", ""));
        Assert.DoesNotContain("https://", html);
        Assert.DoesNotContain("<script", html);
        Assert.Equal(html.Split("<img ").Length - 1, html.Split("<img src=\"data:image/png;base64,").Length - 1);

        // The same record in-process, on the same bit-reproducible kernels (SIMD, one thread).
        var trained = TrainedModel.Load(Checkpoint("shapes-vgg.safetensors"));
        var (input, _) = ImageInput.Load(image, trained.Metadata);
        var explainer = new CamExplainer(new ModuleExplainable(trained.Network, trained.Metadata.Classes), new SimdKernels(1));
        var walk = CamWalkthrough.Run(explainer, input, "cam");
        Assert.Equal(2, walk.Class); // triangle
        var score = walk.Score!;
        Assert.Contains($"class=\"score-network\">{WalkthroughFigures.Number(score.NetworkScore)}<", html);
        Assert.Contains($"class=\"score-recomputed\">{WalkthroughFigures.Number(score.Recomputed)}<", html);
        Assert.Contains($"class=\"score-bias\">{WalkthroughFigures.Number(score.Bias)}<", html);
        Assert.Contains($"class=\"ratio-expected\">{WalkthroughFigures.Number(1.0 / Z)}<", html);
        Assert.Contains($"class=\"ratio-measured\">{WalkthroughFigures.Number(walk.Comparison!.MapRatio)}<", html);
        Assert.Equal(1.0 / Z, walk.Comparison.MapRatio, 1e-7);
        Assert.Contains($"y^c recomputed from the maps {WalkthroughFigures.Number(score.Recomputed)}, network {WalkthroughFigures.Number(score.NetworkScore)}", stdout);
        // Every value of the 32×32 grids is printed, in order, before and after ReLU.
        var cells = System.Text.RegularExpressions.Regex.Matches(html, "<td style=\"background:#[0-9a-f]{6};color:#[0-9a-f]{3}\">([^<]*)</td>").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(2 * Z, cells.Count);
        int before = WalkthroughFigures.Decimals(walk.WeightedSum), after = WalkthroughFigures.Decimals(walk.Map);
        for (int p = 0; p < Z; p++)
        {
            Assert.Equal(WalkthroughFigures.Cell(walk.WeightedSum[p], before), cells[p]);
            Assert.Equal(WalkthroughFigures.Cell(walk.Map[p], after), cells[Z + p]);
        }
    }

    [Fact]
    public void WalkthroughPage_LoadsInChromiumWithoutErrors_EveryImageDecodes_AndAScreenshotIsTaken()
    {
        var outDir = Path.Combine(_dir, "page");
        var (code, _, stderr) = CliHarness.Run("walkthrough", "--model", Checkpoint("mnist-gapcnn.safetensors"),
            "--image", Path.Combine(CliHarness.SharedData, "images", "mnist_28.png"), "--method", "gradcam", "--out", outDir);
        Assert.True(code == 0, stderr);
        var page = Path.Combine(outDir, "index.html");
        var report = HeadlessChromium.Check(page, _dir);
        Assert.Empty(report.Errors);
        // input, 12 feature maps, 3 upsampling steps, input + overlay, CAM + Grad-CAM
        Assert.Equal(1 + 12 + 3 + 2 + 2, report.Images);
        Assert.Equal(report.Images, report.Decoded);
        var screenshot = Path.Combine(_dir, "walkthrough.png");
        HeadlessChromium.Screenshot(page, screenshot, 1200, 1600);
        var shot = ImageCodec.Load(screenshot);
        Assert.Equal((1200, 1600), (shot.Width, shot.Height));
    }

    [Fact]
    public void MnistGapCnn_GradCam_ShowsTheGradientsAndAlphaEqualToWOverZ()
    {
        var outDir = Path.Combine(_dir, "page");
        var (code, _, stderr) = CliHarness.Run("walkthrough", "--model", Checkpoint("mnist-gapcnn.safetensors"),
            "--image", Path.Combine(CliHarness.SharedData, "images", "mnist_28.png"), "--method", "gradcam", "--class", "8", "--out", outDir);
        Assert.True(code == 0, stderr);
        var html = File.ReadAllText(Path.Combine(outDir, "index.html"));
        foreach (var section in Sections(gap: true)) Assert.Contains(section, html);
        // MNIST's class names are the digits: the title says "class 8", not "class 8 (8)".
        var title = System.Text.RegularExpressions.Regex.Match(html, "<title>(.*)</title>").Groups[1].Value;
        Assert.Equal("Grad-CAM step by step: class 8", title);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(title, "8"));
        Assert.Contains("<h1>Grad-CAM step by step: class 8</h1>", html);
        Assert.Contains("∂y^c/∂A^k for k = ", html);
        Assert.Contains("Here all 49 values are equal", html);
        Assert.Contains($"class=\"ratio-expected\">{WalkthroughFigures.Number(1.0 / 49)}<", html); // 28 → 14 → 7
        Assert.DoesNotContain("the measured ratio is not 1/", html);
    }

    [Fact]
    public void SqueezeNetOnnx_GradCamAtFire9_WritesThePage()
    {
        var outDir = Path.Combine(_dir, "page");
        var (code, stdout, stderr) = CliHarness.Run("walkthrough", "--model", Path.Combine(CliHarness.SharedData, "models", "SqueezeNet_fp32_from_fp16.onnx"),
            "--image", Path.Combine(CliHarness.SharedData, "images", "both.png"), "--labels", Path.Combine(CliHarness.SharedData, "models", "imagenet_labels.txt"),
            "--channel-order", "bgr", "--scale", "255", "--mean", "none", "--std", "none",
            "--method", "gradcam", "--layer", "fire9/concat_1", "--class", "243", "--out", outDir);
        Assert.True(code == 0, stderr);
        Assert.Contains("class 243 at layer 'fire9/concat_1'", stdout);
        var html = File.ReadAllText(Path.Combine(outDir, "index.html"));
        foreach (var section in Sections(gap: true)) Assert.Contains(section, html);
        Assert.Contains("bull mastiff", html);
        Assert.Contains("512 channels, each a 13×13 map", html);
        // conv10 → ReLU → GAP: not a linear head, and the page says so instead of claiming 1/Z.
        Assert.Contains("the measured ratio is not 1/", html);
        Assert.Contains("the score is not a weighted sum of the pooled maps", html);
    }

    public static TheoryData<string, string[]> BadInputs => new()
    {
        { "layer 'features.99' does not exist", ["--layer", "features.99"] },
        { "class 6 is out of range", ["--class", "6"] },
        { "--method must be cam or gradcam, got 'gradcam++'", ["--method", "gradcam++"] },
        { "cam: class weights apply to layer 'features', not 'features.10'", ["--layer", "features.10"] },
        { "unknown colour map 'plasma'", ["--colormap", "plasma"] },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void BadInput_GivesOneErrorLine_AndWritesNothing(string expected, string[] extra)
    {
        var outDir = Path.Combine(_dir, "page");
        var (code, _, stderr) = CliHarness.Run(["walkthrough", "--model", Checkpoint("shapes-vgg.safetensors"), "--image", ShapesImage(), "--out", outDir, .. extra]);
        AssertRefused(code, stderr, expected, outDir);
    }

    [Fact]
    public void UnreadableImage_GivesOneErrorLine_AndWritesNothing()
    {
        var image = Path.Combine(_dir, "not-an-image.png");
        File.WriteAllText(image, "this is text");
        var outDir = Path.Combine(_dir, "page");
        var (code, _, stderr) = CliHarness.Run("walkthrough", "--model", Checkpoint("shapes-vgg.safetensors"), "--image", image, "--out", outDir);
        AssertRefused(code, stderr, "not-an-image.png", outDir);
    }

    [Fact]
    public void CamOnANetWithoutAGapHead_GivesOneErrorLine_AndWritesNothing()
    {
        // The MNIST ONNX model ends in conv → pool → reshape → MatMul: no global average pooling.
        var outDir = Path.Combine(_dir, "page");
        var (code, _, stderr) = CliHarness.Run("walkthrough", "--model", Path.Combine(CliHarness.SharedData, "models", "mnist.onnx"),
            "--image", Path.Combine(CliHarness.SharedData, "images", "mnist_28.png"), "--method", "cam", "--out", outDir);
        AssertRefused(code, stderr, "no global-average-pooling + linear classifier head", outDir);
    }

    private static void AssertRefused(int code, string stderr, string expected, string outDir)
    {
        Assert.NotEqual(0, code);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("nanocam: error: ", line);
        Assert.Contains(expected, line);
        Assert.False(Directory.Exists(outDir), $"{outDir} was created");
    }

    /// <summary>
    /// An Attention Branch Network trained with fostering (its checkpoint says λ): the page adds the attention map M(x) and
    /// the fostering term λ·H with the H of the record; a plain network's page says it was trained without fostering.
    /// </summary>
    [Fact]
    public void AbnWithFostering_PageShowsTheAttentionMapAndTheFosteringTerm()
    {
        var network = Architectures.Create("abn-vgg", 3, 6, seed: 4);
        var metadata = new ModelMetadata
        {
            Architecture = "abn-vgg", InputChannels = 3, InputHeight = 64, InputWidth = 64, Classes = [.. ShapesDataset.ShapeNames],
            Mean = [0.5f, 0.5f, 0.5f], Std = [0.25f, 0.25f, 0.25f], FosterCam = 0.5f,
        };
        var checkpoint = Path.Combine(_dir, "abn.safetensors");
        new TrainedModel(network, metadata).Save(checkpoint);
        var image = ShapesImage();
        var outDir = Path.Combine(_dir, "abn-page");
        var (code, _, stderr) = CliHarness.Run("walkthrough", "--model", checkpoint, "--image", image, "--threads", "1", "--out", outDir);
        Assert.True(code == 0, stderr);
        var html = File.ReadAllText(Path.Combine(outDir, "index.html"));
        foreach (var section in Sections(gap: true)) Assert.Contains(section, html);
        Assert.Matches("<h2>9\\. The attention branch(&#39;|&#x27;|')s map M\\(x\\)</h2>", html);
        Assert.Contains("10. CAM fostering", html);

        var reloaded = TrainedModel.Load(checkpoint);
        Assert.Equal(0.5f, reloaded.Metadata.FosterCam);
        var (input, _) = ImageInput.Load(image, reloaded.Metadata);
        var walk = CamWalkthrough.Run(new CamExplainer(new ModuleExplainable(reloaded.Network, reloaded.Metadata.Classes), new SimdKernels(1)), input, "cam");
        Assert.Contains($"class=\"fostering-entropy\">{WalkthroughFigures.Number(walk.FosteringEntropy)}<", html);
        Assert.Contains($"class=\"fostering-term\">{WalkthroughFigures.Number(0.5 * walk.FosteringEntropy)}<", html);

        var (plainCode, _, plainErr) = CliHarness.Run("walkthrough", "--model", Checkpoint("shapes-vgg.safetensors"), "--image", image, "--threads", "1", "--out", Path.Combine(_dir, "plain"));
        Assert.True(plainCode == 0, plainErr);
        var plain = File.ReadAllText(Path.Combine(_dir, "plain", "index.html"));
        Assert.Contains("trained without fostering", plain);
        Assert.DoesNotContain("attention branch", plain);
    }
}
