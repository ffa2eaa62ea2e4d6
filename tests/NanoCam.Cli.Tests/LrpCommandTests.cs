using NanoCam.Imaging;

namespace NanoCam.Cli.Tests;

/// <summary>
/// `explain --method lrp` and `--method gradcam-lrp` on the shipped shapes network: the overlay and the raw relevance
/// (C×H×W; the hybrid's single map 1×H×W) are written under each --lrp-rule; an unknown rule is a command line that does not
/// parse (exit 2, one line naming the rules), a negative ε or γ a refused value (exit 1, one line).
/// </summary>
public sealed class LrpCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-lrp").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Code, string Stdout, string Stderr) Explain(params string[] extra) => CliHarness.Run(
        ["explain", "--model", Path.Combine(CliHarness.Weights, "shapes-vgg.safetensors"), "--image", Path.Combine(CliHarness.SharedData, "images", "both.png"),
         "--threads", "1", "--out", Path.Combine(_dir, "out.png"), "--save-map", Path.Combine(_dir, "map.npy"), .. extra]);

    [Theory]
    [InlineData("lrp", 3, "composite")]
    [InlineData("lrp", 3, "epsilon")]
    [InlineData("lrp", 3, "gamma")]
    [InlineData("lrp", 3, "zero")]
    [InlineData("gradcam-lrp", 1, "composite")]
    public void Explain_WritesTheOverlayAndTheRelevance_UnderEachRule(string method, int channels, string rule)
    {
        var (code, stdout, stderr) = Explain("--method", method, "--lrp-rule", rule, "--lrp-epsilon", "0.1", "--lrp-gamma", "0.5");
        Assert.True(code == 0, stderr);
        Assert.Contains($"{method} for class ", stdout);
        var (values, shape) = Npy.Read(Path.Combine(_dir, "map.npy"));
        Assert.Equal([channels, 64, 64], shape);
        Assert.Contains(values, v => v > 0f);
        var overlay = ImageCodec.Load(Path.Combine(_dir, "out.png"));
        Assert.Equal((64, 64), (overlay.Width, overlay.Height));
    }

    [Fact]
    public void UnknownRule_DoesNotParse_InOneLineNamingTheRules()
    {
        var (code, _, stderr) = Explain("--method", "lrp", "--lrp-rule", "foo");
        Assert.Equal(2, code);
        var line = Assert.Single(stderr.Trim().Split('\n'));
        Assert.StartsWith("nanocam: error: unknown --lrp-rule 'foo' (known: composite, epsilon, gamma, zero)", line);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Theory]
    [InlineData("--lrp-epsilon must be 0 or a positive number, got -1", "--lrp-epsilon", "-1")]
    [InlineData("--lrp-gamma must be 0 or a positive number, got -0.5", "--lrp-gamma", "-0.5")]
    public void NegativeParameters_AreRefusedInOneLine(string message, params string[] options)
    {
        var (code, _, stderr) = Explain(["--method", "lrp", .. options]);
        Assert.Equal(1, code);
        Assert.Equal($"nanocam: error: {message}", stderr.Trim());
        Assert.Empty(Directory.GetFiles(_dir));
    }
}
