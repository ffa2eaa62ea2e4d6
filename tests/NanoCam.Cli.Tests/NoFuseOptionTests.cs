using System.Text.Json;

namespace NanoCam.Cli.Tests;

/// <summary>
/// --no-fuse: every verb that loads an imported model takes it, and a model run with it (every node its plain operator)
/// gives the fused run's logits to float rounding; `layers` says what the fused passes fold.
/// </summary>
public sealed class NoFuseOptionTests
{
    private static string Shared(params string[] parts) => Path.Combine([CliHarness.SharedData, .. parts]);

    [Theory]
    [InlineData("predict")]
    [InlineData("explain")]
    [InlineData("walkthrough")]
    [InlineData("evaluate-explanations")]
    [InlineData("explain-dataset")]
    [InlineData("serve")]
    public void EveryVerbThatLoadsAnOnnxModel_TakesNoFuse(string verb)
    {
        var (code, stdout, stderr) = CliHarness.Run(verb, "--help");
        Assert.True(code == 0, stderr);
        Assert.Contains("--no-fuse", stdout);
    }

    [Fact]
    public void Predict_WithNoFuse_GivesTheFusedLogits_WithinOneInTenToTheFifthOfTheLargest()
    {
        // MobileNetV3-small (HardSwish, HardSigmoid, ReLU after its convolutions), a batch of four.
        string[] args = ["predict", "--model", Shared("models", "zoo", "mobilenet_v3_small_op17_dynamic.onnx"),
            "--input", Shared("models", "zoo", "mobilenet_v3_small_op17_dynamic.input_b4.npy"), "--json", "--logits", "--topk", "1"];
        var (code, fusedOut, stderr) = CliHarness.Run(args);
        Assert.True(code == 0, stderr);
        (code, var plainOut, stderr) = CliHarness.Run([.. args, "--no-fuse"]);
        Assert.True(code == 0, stderr);
        var (fused, plain) = (Logits(fusedOut), Logits(plainOut));
        Assert.Equal(4, fused.Length);
        Assert.Equal(plain.Length, fused.Length);
        for (int n = 0; n < fused.Length; n++)
        {
            double scale = plain[n].Max(Math.Abs);
            for (int c = 0; c < plain[n].Length; c++)
                Assert.True(Math.Abs(fused[n][c] - plain[n][c]) <= 1e-5 * scale, $"image {n} class {c}: {fused[n][c]} fused, {plain[n][c]} plain");
        }
    }

    [Fact]
    public void Layers_SaysWhatTheFusedPassesFold()
    {
        var (code, stdout, stderr) = CliHarness.Run("layers", "--model", Shared("models", "zoo", "mobilenet_v3_small_op17_dynamic.onnx"));
        Assert.True(code == 0, stderr);
        var line = stdout.Split('\n').Single(l => l.StartsWith("fusions at load", StringComparison.Ordinal));
        Assert.Contains("52 convolutions", line);
        Assert.Contains("HardSwish 18", line);
    }

    private static double[][] Logits(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("logits").EnumerateArray().Select(v => v.GetDouble()).ToArray())
            .ToArray();
}
