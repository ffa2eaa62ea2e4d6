using NanoCam.Data;
using NanoCam.Imaging;

namespace NanoCam.Cli.Tests;

/// <summary>
/// <c>explain --method fgcam</c> on the shipped shapes network: the map at the image's resolution, C×H×W relevance in
/// --save-map, the base method chosen by <c>--fg-base</c>; an unknown base refused in one line with exit code 2.
/// </summary>
public sealed class FgCamCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-fgcam").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string ShapesImage()
    {
        var path = Path.Combine(_dir, "shape.png");
        ImageCodec.SavePng(RgbImage.FromPlanar(new ShapesDataset(1, seed: 2).GetImage(0), 3, 64, 64), path);
        return path;
    }

    private (int Code, string Stdout, string Stderr) Explain(string image, string name, params string[] extra) => CliHarness.Run(
        ["explain", "--model", Path.Combine(CliHarness.Weights, "shapes-vgg.safetensors"), "--image", image, "--threads", "1",
         "--out", Path.Combine(_dir, $"{name}.png"), "--save-map", Path.Combine(_dir, $"{name}.npy"), .. extra]);

    [Fact]
    public void ExplainFgCam_WithAGradCamPlusPlusBase_WritesAnInputResolutionMap_ThatDiffersFromTheGradCamBase()
    {
        var image = ShapesImage();
        var (code, stdout, stderr) = Explain(image, "plusplus", "--method", "fgcam", "--fg-base", "gradcam++");
        Assert.True(code == 0, stderr);
        Assert.Matches(@"fgcam for class \d+ \(\w+\) at layer 'features' written to ", stdout);
        var (plusPlus, shape) = Npy.Read(Path.Combine(_dir, "plusplus.npy"));
        Assert.Equal([3, 64, 64], shape);
        var overlay = ImageCodec.Load(Path.Combine(_dir, "plusplus.png"));
        Assert.Equal((64, 64), (overlay.Width, overlay.Height));

        (code, _, stderr) = Explain(image, "default", "--method", "fgcam");
        Assert.True(code == 0, stderr);
        var (gradCam, _) = Npy.Read(Path.Combine(_dir, "default.npy"));
        Assert.Contains(gradCam, v => v > 0f);
        Assert.True(gradCam.Zip(plusPlus).Any(p => MathF.Abs(p.First - p.Second) > 1e-3f * MathF.Abs(p.First)), "--fg-base gradcam++ gave Grad-CAM's relevance");
    }

    [Fact]
    public void ExplainFgCam_WithAnUnknownBase_IsRefusedInOneLine_ExitsTwo_AndWritesNothing()
    {
        var image = ShapesImage();
        var (code, _, stderr) = Explain(image, "out", "--method", "fgcam", "--fg-base", "eigencam");
        Assert.Equal(2, code);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("nanocam: error: --fg-base: unknown FG-CAM base method 'eigencam'; accepted: gradcam, gradcam++, xgradcam, scorecam", line);
        Assert.Equal(["shape.png"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }
}
