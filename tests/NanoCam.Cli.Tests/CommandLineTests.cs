using System.Text.Json;

namespace NanoCam.Cli.Tests;

/// <summary>The nanocam verbs end to end: help, bad input (one line, non-zero exit, nothing written), train → eval → cam → explain.</summary>
public sealed class CommandLineTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-cli").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("demo", "--out")]
    [InlineData("train", "--arch")]
    [InlineData("eval", "--localization")]
    [InlineData("cam", "--save-map")]
    [InlineData("explain", "--method")]
    [InlineData("layers", "--model")]
    [InlineData("predict", "--labels")]
    [InlineData("evaluate-explanations", "--methods")]
    public void EveryVerb_HasHelpListingItsOptionsWithDefaults(string verb, string option)
    {
        var (code, stdout, _) = CliHarness.Run(verb, "--help");
        Assert.Equal(0, code);
        Assert.Contains(option, stdout);
        if (verb is "train" or "demo") Assert.Contains("default", stdout);
    }

    [Fact]
    public void TrainEvalCamExplain_OnATinySlice_WriteTheirFilesAndJson()
    {
        var ckpt = Path.Combine(_dir, "m.safetensors");
        var (code, stdout, stderr) = CliHarness.Run("train", "--arch", "gapcnn", "--data", "shapes#0-128", "--validation", "shapes#0-64",
            "--epochs", "1", "--batch", "32", "--threads", "2", "--out", ckpt);
        Assert.True(code == 0, stderr);
        Assert.True(File.Exists(ckpt) && File.Exists(Path.ChangeExtension(ckpt, ".json")), stdout);

        (code, stdout, stderr) = CliHarness.Run("eval", "--model", ckpt, "--data", "shapes#0-50", "--localization", "--json");
        Assert.True(code == 0, stderr);
        using var json = CliHarness.LastLineJson(stdout);
        Assert.InRange(json.RootElement.GetProperty("accuracy").GetDouble(), 0, 1);
        Assert.InRange(json.RootElement.GetProperty("localization_accuracy").GetDouble(), 0, 1);

        var image = Path.Combine(CliHarness.SharedData, "images", "fish.png");
        var overlay = Path.Combine(_dir, "cam.png");
        var map = Path.Combine(_dir, "cam.npy");
        (code, stdout, stderr) = CliHarness.Run("cam", "--model", ckpt, "--image", image, "--out", overlay, "--save-map", map);
        Assert.True(code == 0, stderr);
        Assert.Contains("top-5", stdout);
        var (values, shape) = Imaging.Npy.Read(map);
        Assert.Equal([64, 64], shape);
        Assert.InRange(values.Min(), 0f, 0f);
        Assert.InRange(values.Max(), 1f, 1f);

        (code, _, stderr) = CliHarness.Run("explain", "--model", ckpt, "--image", image, "--method", "guided-gradcam", "--out", overlay, "--save-map", map);
        Assert.True(code == 0, stderr);
        Assert.Equal([3, 64, 64], Imaging.Npy.Read(map).Shape);

        (code, stdout, stderr) = CliHarness.Run("layers", "--model", ckpt);
        Assert.True(code == 0, stderr);
        Assert.Contains("features", stdout);
    }

    [Theory]
    [InlineData("explain", "--method", "nosuchcam", "unknown method 'nosuchcam'")]
    [InlineData("explain", "--layer", "nosuchlayer", "layer 'nosuchlayer' does not exist")]
    [InlineData("explain", "--class", "99", "class 99 is out of range")]
    [InlineData("explain", "--image", "/nonexistent.png", "--image '/nonexistent.png' not found")]
    public void BadExplainInput_GetsOneClearLine_AndWritesNothing(string verb, string flag, string value, string expected)
    {
        var ckpt = TinyCheckpoint();
        var overlay = Path.Combine(_dir, "out.png");
        var args = new List<string> { verb, "--model", ckpt, "--out", overlay };
        if (flag != "--image") args.AddRange(["--image", Path.Combine(CliHarness.SharedData, "images", "fish.png")]);
        args.AddRange([flag, value]);
        var (code, _, stderr) = CliHarness.Run(args.ToArray());
        Assert.NotEqual(0, code);
        Assert.Contains(expected, stderr);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.False(File.Exists(overlay));
    }

    [Theory]
    [InlineData(new[] { "train", "--epochs", "abc" }, "'abc'", "nanocam train --help")]
    [InlineData(new[] { "frobnicate" }, "'frobnicate'", "nanocam --help")]
    [InlineData(new[] { "eval", "--model", "m.safetensors", "--bogus" }, "'--bogus'", "nanocam eval --help")]
    [InlineData(new[] { "cam", "--image", "x.png" }, "--model", "nanocam cam --help")]
    public void CommandLineThatDoesNotParse_GetsOneLine_NotTheUsageText(string[] args, string named, string pointer)
    {
        var (code, stdout, stderr) = CliHarness.Run(args);
        Assert.Equal(2, code);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.StartsWith("nanocam: error: ", stderr);
        Assert.Contains(named, stderr);
        Assert.Contains(pointer, stderr);
        Assert.DoesNotContain("Usage:", stdout);
    }

    [Fact]
    public void CorruptCheckpoint_NamesTheFile_WithoutAStackTrace()
    {
        var ckpt = TinyCheckpoint();
        var bytes = File.ReadAllBytes(ckpt);
        File.WriteAllBytes(ckpt, bytes[..(bytes.Length / 2)]);
        var (code, _, stderr) = CliHarness.Run("eval", "--model", ckpt, "--data", "shapes#0-10");
        Assert.NotEqual(0, code);
        Assert.Contains("truncated", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    private string TinyCheckpoint()
    {
        var ckpt = Path.Combine(_dir, "tiny.safetensors");
        if (File.Exists(ckpt)) return ckpt;
        var (code, _, stderr) = CliHarness.Run("train", "--arch", "gapcnn", "--data", "shapes#0-32", "--validation", "none",
            "--epochs", "1", "--batch", "32", "--threads", "1", "--out", ckpt);
        Assert.True(code == 0, stderr);
        return ckpt;
    }
}
