using System.Text.Json;
using NanoCam.Imaging;

namespace NanoCam.Cli.Tests;

/// <summary>
/// predict for scripts: --image IMG|DIR or --input X.npy, --topk K (alias --top), --json (one object per line: file,
/// index, topk [{class, label, probability}], and logits with --logits).
/// </summary>
public sealed class PredictCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-predict").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Shared(params string[] parts) => Path.Combine([CliHarness.SharedData, .. parts]);

    private static readonly string[] SqueezeNet =
    [
        "--model", Shared("models", "SqueezeNet_fp32_from_fp16.onnx"), "--labels", Shared("models", "imagenet_labels.txt"),
        "--channel-order", "bgr", "--scale", "255", "--mean", "none", "--std", "none",
    ];

    private static JsonElement[] JsonLines(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToArray();

    private static (int Class, string? Label, double Probability)[] TopK(JsonElement result) =>
        result.GetProperty("topk").EnumerateArray()
            .Select(t => (t.GetProperty("class").GetInt32(), t.GetProperty("label").GetString(), t.GetProperty("probability").GetDouble())).ToArray();

    private static void Link(string path, string target)
    {
        try { File.CreateSymbolicLink(path, target); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { File.Copy(target, path); }
    }

    [Fact]
    public void Json_OnAFolderOfThreeImages_GivesThreeLinesInOrdinalOrder_EqualToThreeSingleRuns()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_dir, "images")).FullName;
        Link(Path.Combine(folder, "b.png"), Shared("images", "fish.png"));
        Link(Path.Combine(folder, "a.png"), Shared("images", "kitten_224.png"));
        Link(Path.Combine(folder, "C.png"), Shared("images", "both.png"));
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "not an image");

        var (code, stdout, stderr) = CliHarness.Run([.. (string[])["predict", "--image", folder, "--json", "--topk", "3"], .. SqueezeNet]);
        Assert.True(code == 0, stderr);
        var lines = JsonLines(stdout);
        string[] ordinal = ["C.png", "a.png", "b.png"];
        Assert.Equal(ordinal, lines.Select(l => Path.GetFileName(l.GetProperty("file").GetString())));
        Assert.Equal([0, 1, 2], lines.Select(l => l.GetProperty("index").GetInt32()));
        // The data README's classes: both.png 243 bull mastiff, kitten 281 tabby, fish 0 tench.
        Assert.Equal([243, 281, 0], lines.Select(l => TopK(l)[0].Class));

        for (int n = 0; n < 3; n++)
        {
            var file = Path.Combine(folder, ordinal[n]);
            (code, stdout, stderr) = CliHarness.Run([.. (string[])["predict", "--image", file, "--json", "--topk", "3"], .. SqueezeNet]);
            Assert.True(code == 0, stderr);
            var single = Assert.Single(JsonLines(stdout));
            Assert.Equal(file, single.GetProperty("file").GetString());
            var (batched, alone) = (TopK(lines[n]), TopK(single));
            Assert.Equal(alone.Select(t => (t.Class, t.Label)), batched.Select(t => (t.Class, t.Label)));
            // A batch of three runs other GEMM shapes than one image: equal to float rounding.
            for (int i = 0; i < 3; i++) Assert.InRange(batched[i].Probability, alone[i].Probability - 1e-5, alone[i].Probability + 1e-5);
        }
    }

    [Fact]
    public void Json_OnAnNpyBatch_GivesOneObjectPerImage_WhoseProbabilitiesAreTheSoftmaxOfItsLogits()
    {
        var input = Shared("models", "zoo", "opmix_dynamic.input_b4.npy");
        var (reference, referenceShape) = Npy.Read(Shared("models", "zoo", "opmix_dynamic.logits_b4.npy"));
        var (code, stdout, stderr) = CliHarness.Run("predict", "--model", Shared("models", "zoo", "opmix_dynamic.onnx"),
            "--input", input, "--json", "--logits", "--topk", "3");
        Assert.True(code == 0, stderr);
        var lines = JsonLines(stdout);
        Assert.Equal(4, lines.Length);
        int classes = referenceShape[1];
        for (int n = 0; n < lines.Length; n++)
        {
            Assert.Equal(input, lines[n].GetProperty("file").GetString());
            Assert.Equal(n, lines[n].GetProperty("index").GetInt32());
            var logits = lines[n].GetProperty("logits").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            Assert.Equal(classes, logits.Length);
            // PyTorch's logits for the same batch.
            double largest = reference.Skip(n * classes).Take(classes).Max(Math.Abs);
            for (int c = 0; c < classes; c++) Assert.InRange(logits[c] - reference[n * classes + c], -1e-4 * largest, 1e-4 * largest);

            double max = logits.Max(), sum = logits.Sum(v => Math.Exp(v - max));
            var topk = TopK(lines[n]);
            Assert.Equal(3, topk.Length);
            Assert.All(topk, t => Assert.Null(t.Label));
            Assert.All(topk, t => Assert.InRange(t.Probability, Math.Exp(logits[t.Class] - max) / sum - 1e-6, Math.Exp(logits[t.Class] - max) / sum + 1e-6));
            Assert.Equal(topk.OrderByDescending(t => t.Probability).Select(t => t.Class), topk.Select(t => t.Class));
            Assert.Equal(logits.Select((v, c) => (v, c)).OrderByDescending(x => x.v).Take(3).Select(x => x.c), topk.Select(t => t.Class));
            Assert.True(topk.Sum(t => t.Probability) <= 1 + 1e-6);
        }
    }

    [Fact]
    public void Top_IsAnAliasOfTopk_AndTextOutputStaysATable()
    {
        var model = Shared("models", "mnist.onnx");
        var image = Shared("images", "mnist_28.png");
        var (code, stdout, stderr) = CliHarness.Run("predict", "--model", model, "--image", image, "--top", "2");
        Assert.True(code == 0, stderr);
        var rows = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, rows.Length);
        Assert.StartsWith("8 ", rows[0].Trim());

        (code, stdout, stderr) = CliHarness.Run("predict", "--model", model, "--image", image, "--topk", "2", "--json");
        Assert.True(code == 0, stderr);
        var result = Assert.Single(JsonLines(stdout));
        Assert.Equal(image, result.GetProperty("file").GetString());
        Assert.Equal(2, TopK(result).Length);
        Assert.False(result.TryGetProperty("logits", out _));
    }

    [Theory]
    [InlineData("--topk", "0", 1, "--topk must be at least 1, got 0")]
    [InlineData("--top", "-3", 1, "--topk must be at least 1, got -3")]
    [InlineData("--logits", null, 2, "--logits goes with --json")]
    public void BadUsage_IsRefusedInOneLine_OutOfRangeWithOne_AndAFlagWithoutItsPartnerWithTheUsageExitCode(string flag, string? value, int exitCode, string expected)
    {
        string[] args = ["predict", "--model", Shared("models", "mnist.onnx"), "--image", Shared("images", "mnist_28.png"), flag];
        var (code, stdout, stderr) = CliHarness.Run(value is null ? args : [.. args, value]);
        Assert.Equal(exitCode, code);
        var line = Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains(expected, line);
        Assert.Equal("", stdout);
    }

    [Fact]
    public void AFolderWithoutImages_IsOneLine()
    {
        File.WriteAllText(Path.Combine(_dir, "readme.txt"), "no images here");
        var (code, _, stderr) = CliHarness.Run("predict", "--model", Shared("models", "mnist.onnx"), "--image", _dir);
        Assert.Equal(1, code);
        var line = Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains($"folder '{_dir}' holds no image files", line);
    }
}
