using System.Text.Json;
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

    /// <summary>The rule reaches evaluate-explanations: the zero rule and the composite one score differently on the same images.</summary>
    [Fact]
    public void EvaluateExplanations_ScoresTheRuleGiven()
    {
        double Sparseness(string rule)
        {
            var (code, stdout, stderr) = CliHarness.Run("evaluate-explanations", "--model", Path.Combine(CliHarness.Weights, "shapes-vgg.safetensors"),
                "--data", "shapes", "--count", "2", "--methods", "lrp", "--metrics", "complexity", "--json", "--threads", "1", "--lrp-rule", rule);
            Assert.True(code == 0, stderr);
            using var json = JsonDocument.Parse(stdout.Trim());
            return json.RootElement[0].GetProperty("sparseness").GetDouble();
        }
        double zero = Sparseness("zero"), composite = Sparseness("composite");
        Assert.NotEqual(zero, composite, 6);
    }

    /// <summary>
    /// The rule reaches explain-dataset's maps, and run.json records it, so a --resume under another rule is refused
    /// (in one line naming the setting) instead of mixing two rules' maps in one table.
    /// </summary>
    [Fact]
    public void ExplainDataset_WritesTheRulesMaps_AndRefusesToResumeUnderAnother()
    {
        float[] Maps(string rule, string folder)
        {
            var (code, _, stderr) = CliHarness.Run("explain-dataset", "--model", Path.Combine(CliHarness.Weights, "shapes-vgg.safetensors"),
                "--data", "shapes#0-1", "--methods", "lrp", "--threads", "1", "--out", Path.Combine(_dir, folder), "--lrp-rule", rule);
            Assert.True(code == 0, stderr);
            Assert.Contains($"lrp-rule={rule}", File.ReadAllText(Path.Combine(_dir, folder, "run.json")));
            return Npy.Read(Path.Combine(_dir, folder, "maps", "lrp", "chunk-00000.npy")).Data;
        }
        var zero = Maps("zero", "zero");
        var gamma = Maps("gamma", "gamma");
        Assert.Equal(zero.Length, gamma.Length);
        Assert.Contains(zero.Zip(gamma), p => MathF.Abs(p.First - p.Second) > 1e-3f);

        var (resumed, _, stderr) = CliHarness.Run("explain-dataset", "--model", Path.Combine(CliHarness.Weights, "shapes-vgg.safetensors"),
            "--data", "shapes#0-1", "--methods", "lrp", "--threads", "1", "--out", Path.Combine(_dir, "zero"), "--lrp-rule", "gamma", "--resume");
        Assert.Equal(1, resumed);
        var line = Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains("method_options", line);
    }
}
