using NanoCam.Imaging;

namespace NanoCam.Cli.Tests;

/// <summary>
/// `explain` with the input-space methods' own options: Integrated Gradients' --steps and --baseline (its completeness
/// error printed per image, shrinking with more steps), SmoothGrad's --samples and --noise, Occlusion's --window and
/// --stride; raw attributions saved C×H×W (Occlusion: 1×H×W); bad values refused in one line.
/// </summary>
public sealed class InputSpaceMethodTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-input-space").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Code, string Stdout, string Stderr) Explain(params string[] extra) => CliHarness.Run(
        ["explain", "--model", Path.Combine(CliHarness.Weights, "mnist-gapcnn.safetensors"), "--image", Path.Combine(CliHarness.SharedData, "images", "mnist_28.png"),
         "--class", "8", "--threads", "1", "--out", Path.Combine(_dir, "out.png"), "--save-map", Path.Combine(_dir, "map.npy"), .. extra]);

    private static double CompletenessError(string stderr)
    {
        var line = Assert.Single(stderr.Split('\n'), l => l.Contains("completeness error"));
        return Math.Abs(double.Parse(line[(line.LastIndexOf('=') + 1)..].Trim(), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void IntegratedGradients_PrintsItsCompletenessError_WhichShrinksWithMoreSteps_AndSavesCxHxW()
    {
        var (code, _, stderr) = Explain("--method", "integrated-gradients", "--steps", "2", "--baseline", "black");
        Assert.True(code == 0, stderr);
        double coarse = CompletenessError(stderr);
        Assert.Equal([1, 28, 28], Npy.Read(Path.Combine(_dir, "map.npy")).Shape);
        (code, _, stderr) = Explain("--method", "integrated-gradients", "--steps", "64", "--baseline", "black");
        Assert.True(code == 0, stderr);
        double fine = CompletenessError(stderr);
        Assert.True(fine < coarse, $"64 steps: {fine}, 2 steps: {coarse}");
    }

    [Theory]
    [InlineData("smoothgrad", 1, "--samples", "4", "--noise", "0.2")]
    [InlineData("smoothgrad-sq", 1, "--samples", "3", "--noise", "0.1")]
    [InlineData("occlusion", 1, "--window", "7", "--stride", "7")]
    [InlineData("saliency", 1)]
    public void EachMethod_WritesItsOverlayAndRawAttributions(string method, int channels, params string[] options)
    {
        var (code, stdout, stderr) = Explain(["--method", method, .. options]);
        Assert.True(code == 0, stderr);
        Assert.Contains($"{method} for class 8 written to", stdout);
        var (values, shape) = Npy.Read(Path.Combine(_dir, "map.npy"));
        Assert.Equal([channels, 28, 28], shape);
        Assert.Contains(values, v => v != 0f);
        var overlay = ImageCodec.Load(Path.Combine(_dir, "out.png"));
        Assert.Equal((28, 28), (overlay.Width, overlay.Height));
    }

    [Theory]
    [InlineData("--baseline must be black, zero, blur or noise, got 'grey'", "--method", "integrated-gradients", "--baseline", "grey")]
    [InlineData("--steps must be at least 1, got 0", "--method", "integrated-gradients", "--steps", "0")]
    [InlineData("--noise must be 0 or a positive number, got -1", "--method", "smoothgrad", "--noise", "-1")]
    public void BadValues_AreRefusedInOneLine_AndNothingIsWritten(string message, params string[] options)
    {
        var (code, _, stderr) = Explain(options);
        Assert.Equal(1, code);
        Assert.Equal($"nanocam: error: {message}", stderr.Trim());
        Assert.Empty(Directory.GetFiles(_dir));
    }
}
