using System.CommandLine;
using System.Text.RegularExpressions;
using NanoCam.Cli.Shared;
using NanoCam.Imaging;
using NanoCam.Onnx;
using Spectre.Console;

namespace NanoCam.Cli.Commands;

/// <summary>
/// <c>nanocam gap-surgery</c>: keeps an ONNX model up to a spatial layer and builds the CAM paper's head on it
/// (optional k×k conv + ReLU, global average or max pooling, a linear layer to K classes), prints the new architecture
/// and writes it as an .onnx file for <c>train --init</c> to fine-tune.
/// </summary>
public static partial class GapSurgeryCommand
{
    public static Command Create()
    {
        var model = CliOptions.Path("--model", "the .onnx model to cut", PathRole.InputFile, required: true);
        var cutAfter = CliOptions.Required<string>("--cut-after", "the last layer kept: an ONNX tensor name or a PyTorch module path ('nanocam layers' lists them)");
        var addConv = CliOptions.Make("--add-conv", "the convolution added after the cut, KxKxUNITS (stride 1, padding K/2, then a ReLU); 'none' adds none", "3x3x1024");
        var pool = CliOptions.Make("--pool", "global pooling: gap (average, the paper's) or gmp (max, its GoogLeNet-GMP baseline)", "gap");
        var classes = CliOptions.Required<int>("--classes", "classes of the new linear layer (at least 2)");
        var output = CliOptions.Path("--out", "the new model (.onnx)", PathRole.OutputFile, required: true);
        var seed = CliOptions.Make("--seed", "seeds the new layers' initial weights", 1);
        var command = new Command("gap-surgery", "Cut a model after a spatial layer and add the CAM paper's head (conv + ReLU, GAP or GMP, linear to K classes)")
            { model, cutAfter, addConv, pool, classes, output, seed };
        command.SetAction(p => CliRunner.Guard(() =>
        {
            var modelPath = p.GetValue(model)!;
            var outPath = p.GetValue(output)!;
            if (!modelPath.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"--model '{modelPath}' is not an .onnx file: gap-surgery cuts ONNX graphs (the shipped shapes-vgg exports to one with benchmarks/pytorch/export_surgery_bases.py)");
            if (outPath.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"--out '{outPath}': only .onnx is supported for now; give a file ending in .onnx");
            if (!outPath.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"--out '{outPath}' must end in .onnx");
            OptionChecks.AtLeast(p.GetValue(classes), 2, "--classes");
            var (kernel, units) = ParseAddConv(p.GetValue(addConv)!);
            var options = new GapSurgeryOptions(p.GetValue(cutAfter)!, p.GetValue(classes))
            {
                ConvKernel = kernel,
                ConvUnits = units,
                Pool = ParsePool(p.GetValue(pool)!),
                Seed = p.GetValue(seed),
            };
            var result = GapSurgery.Apply(modelPath, options);
            AtomicFile.Write(outPath, s => result.WriteTo(s));
            Print(result, modelPath, outPath);
            return 0;
        }));
        return command;
    }

    /// <summary>"3x3x1024" → (3, 1024); "none" → (0, 0).</summary>
    internal static (int Kernel, int Units) ParseAddConv(string text)
    {
        if (text.Equals("none", StringComparison.OrdinalIgnoreCase)) return (0, 0);
        var match = ConvSpec().Match(text);
        if (!match.Success || !int.TryParse(match.Groups["h"].Value, out var h) || !int.TryParse(match.Groups["w"].Value, out var w)
            || !int.TryParse(match.Groups["u"].Value, out var u))
            throw new ArgumentException($"--add-conv '{DisplayText.Quote(text)}' is not KxKxUNITS (e.g. 3x3x1024) or 'none'");
        if (h != w) throw new ArgumentException($"--add-conv '{text}': the kernel must be square (KxK), got {h}x{w}");
        if (h < 1 || h % 2 == 0) throw new ArgumentException($"--add-conv '{text}': the kernel size must be odd (padding K/2 keeps the map's size), got {h}");
        if (u < 1) throw new ArgumentException($"--add-conv '{text}': the convolution needs at least 1 unit, got {u}");
        return (h, u);
    }

    [GeneratedRegex(@"^(?<h>\d{1,4})x(?<w>\d{1,4})x(?<u>\d{1,6})$", RegexOptions.IgnoreCase)]
    private static partial Regex ConvSpec();

    private static GapSurgeryPool ParsePool(string text) => text.ToLowerInvariant() switch
    {
        "gap" => GapSurgeryPool.Average,
        "gmp" => GapSurgeryPool.Max,
        _ => throw new ArgumentException($"--pool '{DisplayText.Quote(text)}' is not gap or gmp"),
    };

    /// <summary>The new architecture: the kept layers in one line, then each head layer, then the total.</summary>
    private static void Print(GapSurgeryResult result, string modelPath, string outPath)
    {
        var table = new Table().AddColumns("layer", "op", "output shape").AddColumn(new TableColumn("parameters").RightAligned());
        table.AddRow("kept layers", "",
            Markup.Escape(Shape(result.CutDims, batch: true)), Count(result.KeptParameters));
        foreach (var layer in result.Head)
            table.AddRow(Markup.Escape(layer.Module), layer.OpType, Markup.Escape(Shape(layer.OutputDims, batch: false)), Count(layer.Parameters));
        table.AddRow("total", "", "", Count(result.TotalParameters));
        Console.WriteLine($"{modelPath} cut after {result.CutTensor}: {result.KeptNodes} nodes kept, {result.RemovedNodes} removed");
        AnsiConsole.Write(table);
        Console.WriteLine($"CAM layer: {result.CamLayer}; output '{GapSurgery.OutputName}' [N, {result.Head[^1].OutputDims[^1]}]");
        Console.WriteLine($"wrote {outPath} (fine-tune it with 'nanocam train --init')");
    }

    /// <summary>[N, C, H, W]: the batch shown as N (from a one-image plan when <paramref name="batch"/>, else already −1).</summary>
    private static string Shape(int[] dims, bool batch) =>
        "[" + string.Join(", ", dims.Select((d, i) => i == 0 && (batch || d < 0) ? "N" : d.ToString())) + "]";

    private static string Count(long n) => n.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
}
