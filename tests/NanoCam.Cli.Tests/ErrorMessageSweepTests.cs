using System.Text.RegularExpressions;

namespace NanoCam.Cli.Tests;

/// <summary>
/// Every verb, and the bare command, with the inputs a new user gets wrong: a folder where a file is expected, a
/// missing file, a file that is not a model, an unknown name, a number out of range, NaN or Inf in an input tensor,
/// a command line that does not parse. Each gets the documented exit code, one line in our words (no .NET type name,
/// no "(Parameter …)", no stack frame), and leaves nothing behind.
/// </summary>
public sealed partial class ErrorMessageSweepTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-sweep").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // Placeholders, so that the cases read as command lines: {out} is an empty folder that must stay empty,
    // {in} holds the inputs made for a case, {data} is shared/data, {weights} the shipped checkpoints.
    private const string Shapes = "{weights}/shapes-vgg.safetensors", Image = "{data}/images/both.png", Onnx = "{data}/models/mnist.onnx",
        SqueezeNet = "{data}/models/SqueezeNet_fp32_from_fp16.onnx", Digit = "{data}/images/mnist_28.png";

    private const string CheckpointOrOnnx = "is not a model: give a NanoCam checkpoint (.safetensors with its .json beside it) or an .onnx file";
    private const string CheckpointOnly = "is not a model: give a NanoCam checkpoint (.safetensors with its .json beside it)";

    public static TheoryData<int, string, string[]> BadCommandLines => new()
    {
        // A command line that does not parse: exit 2.
        { 2, "no command given; the commands are demo, train", [] },
        { 2, "unknown command 'frobnicate'; the commands are demo", ["frobnicate"] },
        { 2, "unknown option '--bogus' before a command; the commands are demo", ["--bogus"] },
        { 2, "Unrecognized command or argument '--bogus'", ["eval", "--model", Shapes, "--bogus"] },
        { 2, "--topk: 'abc' is not a whole number", ["predict", "--model", Onnx, "--image", Digit, "--top", "abc"] },
        { 2, "--lr: 'fast' is not a number", ["train", "--lr", "fast", "--out", "{out}/m.safetensors"] },
        { 2, "--class: '1.5' is not a whole number", ["cam", "--model", Shapes, "--image", Image, "--class", "1.5", "--out", "{out}/c.png"] },
        { 2, "Option '--model' is required", ["layers"] },

        // A folder where a file is expected.
        { 1, "--image '{out}' is a folder: give a file", ["cam", "--model", Shapes, "--image", "{out}", "--out", "{out}/c.png"] },
        { 1, "--image '{out}' is a folder: give a file", ["explain", "--model", Shapes, "--image", "{out}", "--out", "{out}/e.png"] },
        { 1, "--image '{out}' is a folder: give a file", ["walkthrough", "--model", Shapes, "--image", "{out}", "--out", "{out}/w"] },
        { 1, "--input '{out}' is a folder: give a file", ["predict", "--model", Onnx, "--input", "{out}"] },
        { 1, "--labels '{out}' is a folder: give a file", ["predict", "--model", Onnx, "--image", Digit, "--labels", "{out}"] },
        { 1, "--model '{out}' is a folder: give a file", ["layers", "--model", "{out}"] },
        { 1, "--model '{out}' is a folder: give a file", ["eval", "--model", "{out}", "--data", "shapes#0-10"] },
        { 1, "--model '{out}' is a folder: give a file", ["evaluate-explanations", "--model", "{out}", "--count", "2"] },
        { 1, "--resume '{out}' is a folder: give a file", ["train", "--resume", "{out}", "--data", "shapes#0-10", "--out", "{out}/m.safetensors"] },

        // A file that is missing.
        { 1, "--input '{in}/missing.npy' not found", ["explain", "--model", Onnx, "--input", "{in}/missing.npy", "--out", "{out}/e.png"] },
        { 1, "--image '{in}/missing.png' not found", ["cam", "--model", Shapes, "--image", "{in}/missing.png", "--out", "{out}/c.png"] },
        { 1, "--model '{in}/missing.onnx' not found", ["predict", "--model", "{in}/missing.onnx", "--image", Digit] },

        // A file of the wrong kind for --model: the accepted kinds are named.
        { 1, CheckpointOrOnnx, ["predict", "--model", Image, "--image", Image] },
        { 1, CheckpointOrOnnx, ["explain", "--model", Image, "--image", Image, "--out", "{out}/e.png"] },
        { 1, CheckpointOrOnnx, ["layers", "--model", Image] },
        { 1, CheckpointOrOnnx, ["walkthrough", "--model", Image, "--image", Image, "--out", "{out}/w"] },
        { 1, CheckpointOnly, ["cam", "--model", Image, "--image", Image, "--out", "{out}/c.png"] },
        { 1, CheckpointOrOnnx, ["eval", "--model", Image, "--data", "shapes#0-10"] },
        { 1, CheckpointOnly, ["evaluate-explanations", "--model", Image, "--count", "2"] },
        { 1, CheckpointOnly, ["train", "--resume", Image, "--data", "shapes#0-10", "--out", "{out}/m.safetensors"] },
        { 1, "is an ONNX model, and cam takes a NanoCam checkpoint", ["cam", "--model", Onnx, "--image", Digit, "--out", "{out}/c.png"] },
        { 1, "mnist.onnx takes 1-channel images but shapes", ["eval", "--model", Onnx, "--data", "shapes#0-10"] },
        { 1, "has no model description '{in}/lonely.json' beside it", ["predict", "--model", "{in}/lonely.safetensors", "--image", Image] },

        // Outputs that cannot be written where they are asked for.
        { 1, "--out '{out}' is a folder: give the name of a file to write", ["cam", "--model", Shapes, "--image", Image, "--out", "{out}"] },
        { 1, "--save-map '{out}' is a folder: give the name of a file to write", ["explain", "--model", Shapes, "--image", Image, "--out", "{out}/e.png", "--save-map", "{out}"] },
        { 1, "--out '{out}' is a folder: give the name of a file to write", ["train", "--data", "shapes#0-10", "--epochs", "1", "--out", "{out}"] },
        { 1, "--out '{out}' is a folder: give the name of a file to write", ["evaluate-explanations", "--model", Shapes, "--count", "2", "--out", "{out}"] },
        { 1, $"--out '{Image}' is a file: give a folder to write into", ["demo", "--out", Image] },
        { 1, $"--out '{Image}' is a file: give a folder to write into", ["walkthrough", "--model", Shapes, "--image", Image, "--out", Image] },
        { 1, $"cannot be written: '{Image}' is a file, not a folder", ["explain", "--model", Shapes, "--image", Image, "--out", $"{Image}/e.png"] },

        // Unknown names, listed with their alternatives.
        { 1, "unknown colour map 'foo'; valid names: jet", ["cam", "--model", Shapes, "--image", Image, "--colormap", "foo", "--out", "{out}/c.png"] },
        { 1, "unknown colour map 'foo'; valid names: jet", ["explain", "--model", Shapes, "--image", Image, "--colormap", "foo", "--out", "{out}/e.png"] },
        { 1, "unknown colour map 'foo'; valid names: jet", ["walkthrough", "--model", Shapes, "--image", Image, "--colormap", "foo", "--out", "{out}/w"] },
        { 2, "unknown method 'foo' in --method (known: cam, gradcam", ["explain", "--model", Shapes, "--image", Image, "--method", "foo", "--out", "{out}/e.png"] },
        { 2, "unknown method 'foo' in --methods (known: cam, gradcam", ["evaluate-explanations", "--model", Shapes, "--methods", "foo"] },
        { 1, "--method must be cam or gradcam, got 'foo'", ["walkthrough", "--model", Shapes, "--image", Image, "--method", "foo", "--out", "{out}/w"] },
        { 1, "unknown split 'foo'; valid splits: train, test", ["eval", "--model", Shapes, "--data", "shapes#0-10", "--split", "foo"] },
        { 1, "unknown architecture 'foo' (known: gapcnn", ["train", "--arch", "foo", "--data", "shapes#0-10", "--out", "{out}/m.safetensors"] },
        { 1, "unknown device 'foo' (known: cpu", ["explain", "--model", Shapes, "--image", Image, "--device", "foo", "--out", "{out}/e.png"] },

        // Ranges.
        { 1, "range #50-10 is empty (need START < END)", ["eval", "--model", Shapes, "--data", "shapes#50-10"] },
        { 1, "range #50-10 is empty (need START < END)", ["train", "--data", "shapes#50-10", "--out", "{out}/m.safetensors"] },
        { 1, "range #50-10 is empty (need START < END)", ["evaluate-explanations", "--model", Shapes, "--data", "shapes#50-10"] },
        { 1, "--topk must be at least 1, got 0", ["predict", "--model", Onnx, "--image", Digit, "--top", "0"] },
        { 1, "--topk must be at least 1, got -3", ["predict", "--model", Shapes, "--image", Image, "--top", "-3"] },
        { 1, "--epochs must be at least 1, got 0", ["train", "--data", "shapes#0-10", "--epochs", "0", "--out", "{out}/m.safetensors"] },
        { 1, "--lr must be a positive number, got -1", ["train", "--data", "shapes#0-10", "--lr", "-1", "--out", "{out}/m.safetensors"] },
        { 1, "--epochs must be at least 1, got 0", ["demo", "--epochs", "0", "--out", "{out}/demo"] },
        { 1, "--train-images must be at least 1, got 0", ["demo", "--train-images", "0", "--out", "{out}/demo"] },
        { 1, "--foster-cam must be 0 or a positive number, got -1", ["train", "--data", "shapes#0-10", "--foster-cam", "-1", "--out", "{out}/m.safetensors"] },
        { 1, "--foster-method: unknown method 'lime' (known: cam, gradcam)", ["train", "--data", "shapes#0-10", "--foster-cam", "0.1", "--foster-method", "lime", "--out", "{out}/m.safetensors"] },
        { 1, "--foster-layer: 'fc' is not a feature layer of this network (candidates: ", ["train", "--data", "shapes#0-10", "--foster-cam", "0.1", "--foster-layer", "fc", "--out", "{out}/m.safetensors"] },
        { 1, "--marked-class: unknown class 'hexagon' (known: circle, square", ["demo", "bias", "--marked-class", "hexagon", "--out", "{out}/bias"] },
        { 1, "--co-occurrence must lie in (0, 1], got 1.5", ["demo", "bias", "--co-occurrence", "1.5", "--out", "{out}/bias"] },
        { 1, "--count must be at least 1, got 0", ["evaluate-explanations", "--model", Shapes, "--count", "0"] },
        { 1, "--threads must be at least 0, got -1", ["cam", "--model", Shapes, "--image", Image, "--threads", "-1", "--out", "{out}/c.png"] },
        { 1, "--scale must be a positive number, got 0", ["explain", "--model", SqueezeNet, "--image", Image, "--scale", "0", "--out", "{out}/e.png"] },
        { 1, "--size must be at least 0, got -5", ["predict", "--model", SqueezeNet, "--image", Image, "--size", "-5"] },

        // explain-dataset and merge: a shard that is not I/N, a bad range, a folder that holds no run, a missing option.
        { 2, "Option '--out' is required", ["explain-dataset", "--model", Shapes, "--data", "shapes#0-4"] },
        { 2, "Required argument missing for command: 'merge'", ["merge"] },
        { 1, "--model '{out}' is a folder: give a file", ["explain-dataset", "--model", "{out}", "--data", "shapes#0-4", "--out", "{out}/r"] },
        { 1, "--shard '3/2': I must be in 0…1 (shards are numbered from 0)", ["explain-dataset", "--model", Shapes, "--data", "shapes#0-4", "--shard", "3/2", "--out", "{out}/r"] },
        { 1, "range #50-10 is empty (need START < END)", ["explain-dataset", "--model", Shapes, "--data", "shapes#50-10", "--out", "{out}/r"] },
        { 1, "--targets 'topk:7': K must be a whole number in 1…6", ["explain-dataset", "--model", Shapes, "--data", "shapes#0-4", "--targets", "topk:7", "--out", "{out}/r"] },
        { 1, "'{in}' holds no explain-dataset run (no run.json)", ["merge", "{in}", "--out", "{out}/merged"] },

        // NaN or Inf in an input tensor.
        { 1, "holds 784 of 784 values that are not finite numbers (the first, NaN, at element 0)", ["predict", "--model", Onnx, "--input", "{in}/nan.npy"] },
        { 1, "holds 784 of 784 values that are not finite numbers", ["explain", "--model", Onnx, "--input", "{in}/nan.npy", "--out", "{out}/e.png"] },
        { 1, "holds 1 of 784 values that are not finite numbers (the first, -Infinity, at element 5)", ["explain", "--model", Onnx, "--input", "{in}/inf.npy", "--out", "{out}/e.png"] },
        { 1, "holds 12288 of 12288 values that are not finite numbers", ["predict", "--model", Shapes, "--input", "{in}/nan64.npy"] },
    };

    [Theory]
    [MemberData(nameof(BadCommandLines))]
    public void BadCommandLine_GetsItsExitCode_OneLineInOurWords_AndLeavesNothing(int exitCode, string expected, string[] args)
    {
        var (outDir, inDir) = (Directory.CreateDirectory(Path.Combine(_dir, "out")).FullName, Directory.CreateDirectory(Path.Combine(_dir, "in")).FullName);
        MakeInputs(inDir);
        string Expand(string text) => text.Replace("{out}", outDir).Replace("{in}", inDir)
            .Replace("{data}", CliHarness.SharedData).Replace("{weights}", CliHarness.Weights);
        var inputsBefore = Directory.GetFiles(inDir).Order().ToArray();

        var (code, stdout, stderr) = CliHarness.Run(TimeSpan.FromMinutes(1), args.Select(Expand).ToArray());

        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var line = Assert.Single(lines);
        Assert.Equal(exitCode, code);
        Assert.StartsWith("nanocam: error: ", line);
        Assert.Contains(Expand(expected), line);
        Assert.DoesNotContain("Exception", stderr);
        Assert.DoesNotContain("(Parameter", stderr);
        Assert.DoesNotContain("   at ", stderr);
        Assert.DoesNotMatch(DotNetTypeName(), stderr);
        Assert.DoesNotContain("Usage:", stdout);
        Assert.Empty(Directory.GetFileSystemEntries(outDir));
        Assert.Equal(inputsBefore, Directory.GetFiles(inDir).Order().ToArray());
    }

    /// <summary>The tensors and the lone checkpoint the cases name under {in}.</summary>
    private static void MakeInputs(string inDir)
    {
        var nan = Enumerable.Repeat(float.NaN, 28 * 28).ToArray();
        Imaging.Npy.Write(Path.Combine(inDir, "nan.npy"), nan, [1, 1, 28, 28]);
        var inf = new float[28 * 28];
        inf[5] = float.NegativeInfinity;
        Imaging.Npy.Write(Path.Combine(inDir, "inf.npy"), inf, [1, 28, 28]);
        Imaging.Npy.Write(Path.Combine(inDir, "nan64.npy"), Enumerable.Repeat(float.NaN, 3 * 64 * 64).ToArray(), [3, 64, 64]);
        // Weights without the .json description that train writes beside them.
        File.Copy(Path.Combine(CliHarness.Weights, "mnist-gapcnn.safetensors"), Path.Combine(inDir, "lonely.safetensors"));
    }

    /// <summary>A namespace-qualified .NET type (System.Int32, NanoCam.Imaging.Npy, Microsoft.…).</summary>
    [GeneratedRegex(@"\b(System|NanoCam|Microsoft)\.[A-Z]")]
    private static partial Regex DotNetTypeName();
}
