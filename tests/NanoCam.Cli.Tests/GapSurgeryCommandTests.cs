using NanoCam.Onnx;

namespace NanoCam.Cli.Tests;

/// <summary>
/// `nanocam gap-surgery` on the zoo's DenseNet (tiny): it prints the new architecture and writes an .onnx file that
/// loads, has the head it printed, and that explain's CAM and Grad-CAM run on; each bad input is one line and a non-zero exit.
/// </summary>
public sealed class GapSurgeryCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-gap-surgery").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Zoo(string file) => Path.Combine(CliHarness.SharedData, "models", "zoo", file);

    private static readonly string Model = Zoo("densenet_tiny.onnx");

    [Theory]
    [InlineData("gap", "GlobalAveragePool")]
    [InlineData("gmp", "GlobalMaxPool")]
    public void WritesALoadableModel_PrintsItsTable_AndCamRunsOnIt(string pool, string poolOp)
    {
        var output = Path.Combine(_dir, $"surgery-{pool}.onnx");
        var (code, stdout, stderr) = CliHarness.Run("gap-surgery", "--model", Model, "--cut-after", "features", "--add-conv", "3x3x16",
            "--pool", pool, "--classes", "4", "--out", output);
        Assert.True(code == 0, stderr);
        Assert.Equal("", stderr);

        var model = OnnxModel.Load(output);
        Assert.Equal(["logits"], model.OutputNames);
        Assert.Contains(model.Nodes, n => n.OpType == poolOp && n.Name == $"/head/pool/{poolOp}");
        int channels = model.Parameters["head.conv.weight"].Shape[1];
        Assert.Equal([16, channels, 3, 3], model.Parameters["head.conv.weight"].Shape.ToArray());
        Assert.Equal([4, 16], model.Parameters["head.fc.weight"].Shape.ToArray());
        // The table: each head layer with its shape and parameters, and the file's parameter total.
        var features = OnnxModel.Load(Model).ResolveLayer("features")!;
        Assert.Contains($"cut after {features}", stdout);
        Assert.Contains("head.conv", stdout);
        Assert.Contains("[N, 16, 4, 4]", stdout);
        Assert.Contains(poolOp, stdout);
        Assert.Contains((16 * channels * 9 + 16).ToString("N0", System.Globalization.CultureInfo.InvariantCulture), stdout);
        Assert.Contains("[N, 4]", stdout);
        // Parameters as PyTorch counts them: the stored ones and each Identity copy torch.onnx made of an equal one.
        long total = model.Parameters.Values.Sum(p => (long)p.Shape.Size)
            + model.Nodes.Where(n => n.OpType == "Identity" && model.Parameters.ContainsKey(n.Inputs[0])).Sum(n => (long)model.Parameters[n.Inputs[0]].Shape.Size);
        Assert.Contains(total.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), stdout);
        Assert.Contains("CAM layer: head.relu", stdout);

        foreach (var method in new[] { "cam", "gradcam" })
        {
            var overlay = Path.Combine(_dir, $"{pool}-{method}.png");
            var explained = CliHarness.Run("explain", "--model", output, "--input", Zoo("densenet_tiny.input.npy"), "--method", method, "--out", overlay, "--threads", "1");
            Assert.True(explained.ExitCode == 0, explained.Stderr);
            Assert.Contains("at layer 'head.relu'", explained.Stdout);
            Assert.True(File.Exists(overlay));
        }
    }

    [Theory]
    [InlineData("names no layer", "--cut-after", "features.nosuch")]
    [InlineData("has no spatial output", "--cut-after", "/GlobalAveragePool_output_0")]
    [InlineData("--classes must be at least 2, got 1", "--classes", "1")]
    [InlineData("only .onnx is supported for now", "--out", "OUT.safetensors")]
    [InlineData("is not gap or gmp", "--pool", "avg")]
    [InlineData("must be odd", "--add-conv", "2x2x8")]
    [InlineData("is not KxKxUNITS", "--add-conv", "3x3")]
    public void BadInput_IsOneLine_AndANonZeroExit(string expected, string option, string value)
    {
        var args = new Dictionary<string, string>
        {
            ["--model"] = Model, ["--cut-after"] = "features", ["--classes"] = "4", ["--out"] = Path.Combine(_dir, "out.onnx"),
        };
        args[option] = value.Replace("OUT", Path.Combine(_dir, "out"));
        var (code, stdout, stderr) = CliHarness.Run(["gap-surgery", .. args.SelectMany(a => new[] { a.Key, a.Value })]);
        Assert.NotEqual(0, code);
        Assert.Contains(expected, stderr);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.False(File.Exists(Path.Combine(_dir, "out.onnx")), stdout);
        if (expected == "names no layer") Assert.Contains("candidates", stderr);
    }
}
