using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using NanoCam.Autodiff;
using NanoCam.Cpu.Simd;
using NanoCam.Explain;
using NanoCam.Explain.Methods;
using NanoCam.Imaging;
using NanoCam.Onnx;

namespace NanoCam.Benchmarks;

/// <summary>
/// `torchvision-zoo [--dir D] [--models a,b] [--threads T]`: every full-size torchvision classifier that
/// benchmarks/pytorch/export_torchvision_zoo.py exported to D, run through NanoCam and held against PyTorch: import
/// (or its one-line error), logits' max |Δ| over the largest |logit|, whether a batch runs in one pass
/// (<see cref="OnnxModel.Batch"/>), Grad-CAM and Grad-CAM++ at the PyTorch module pytorch-grad-cam hooked (passed as
/// the module path, as to `--layer`) against pytorch-grad-cam's maps (Pearson r, max |Δ|), and the default layer
/// `nanocam layers` names. Prints a markdown table, then one line per finding.
/// </summary>
public static class TorchvisionZoo
{
    /// <summary>The zoo tests' bounds (tests/NanoCam.Explain.Tests/Zoo/ZooModelTests.cs).</summary>
    private const double LogitBound = 1e-4, PearsonBound = 0.99, DeltaBound = 0.05;

    public static int Run(string[] args)
    {
        string dir = Option(args, "--dir") ?? "/work/fullsize";
        int threads = int.Parse(Option(args, "--threads") ?? "2", NumberStyles.None, CultureInfo.InvariantCulture);
        var names = Option(args, "--models")?.Split(',') ?? Directory.GetFiles(dir, "*.json").Select(Path.GetFileNameWithoutExtension)
            .OrderBy(n => Array.IndexOf(Order, n) is var i && i < 0 ? int.MaxValue : i).ThenBy(n => n, StringComparer.Ordinal).ToArray()!;
        if (names.Length == 0) throw new ArgumentException($"{dir} holds no exported models (run benchmarks/pytorch/export_torchvision_zoo.py)");
        using var kernels = new SimdKernels(threads);
        Console.WriteLine("| model | import | logits max \\|Δ\\| / max \\|logit\\| | batch | Grad-CAM r / max \\|Δ\\| | Grad-CAM++ r / max \\|Δ\\| | target (module → ONNX tensor) | `nanocam layers` default | s |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        var notes = new List<string>();
        int failures = 0;
        foreach (var name in names)
        {
            var row = Check(dir, name!, kernels, notes);
            if (!row.Passed) failures++;
            Console.WriteLine(row.Markdown);
        }
        Console.WriteLine();
        foreach (var note in notes) Console.WriteLine($"- {note}");
        Console.WriteLine($"{names.Length - failures} of {names.Length} within logits {LogitBound:0e0} relative, r ≥ {PearsonBound}, max |Δ| ≤ {DeltaBound}");
        return failures == 0 ? 0 : 1;
    }

    private static readonly string[] Order =
    [
        "resnet18", "resnet50", "resnext50_32x4d", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0",
        "densenet121", "googlenet", "inception_v3", "shufflenet_v2_x1_0", "mnasnet1_0", "regnet_y_400mf", "convnext_tiny",
        "vgg16", "alexnet", "squeezenet1_1",
    ];

    private sealed record Row(string Markdown, bool Passed);

    private static Row Check(string dir, string name, SimdKernels kernels, List<string> notes)
    {
        var clock = Stopwatch.StartNew();
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, $"{name}.json")));
        var meta = json.RootElement;
        string module = meta.GetProperty("target_module").GetString()!, tensor = meta.GetProperty("target_tensor").GetString()!;
        int targetClass = meta.GetProperty("target_class").GetInt32(), opset = meta.GetProperty("opset").GetInt32();
        string target = $"`{module}` → `{tensor}`";
        string Cells(string import, string rest) => $"| {name} (op{opset}) | {import} | {rest} | {clock.Elapsed.TotalSeconds:F0} |";

        OnnxModel model;
        try { model = OnnxModel.Load(Path.Combine(dir, $"{name}.onnx")); }
        catch (Exception ex) when (ex is NotSupportedException or InvalidDataException or ArgumentException)
        {
            notes.Add($"{name}: import failed: {FirstLine(ex)}");
            return new Row(Cells("no", $"– | – | – | – | {target} | –"), false);
        }

        try
        {
            var (input, shape) = Npy.Read(Path.Combine(dir, $"{name}.input.npy"));
            var (expectedLogits, _) = Npy.Read(Path.Combine(dir, $"{name}.logits.npy"));
            var tape = new Tape(kernels) { GradEnabled = false };
            var logits = model.Run(tape, Tensor.FromArray(input, shape)).ToArray();
            double logitError = MaxRelativeError(logits, expectedLogits);
            bool passed = logitError <= LogitBound;
            if (!passed) notes.Add($"{name}: logits differ by {logitError:E2} of the largest (bound {LogitBound:0e0})");

            var batch = model.Batch;
            if (!batch.Independent) notes.Add($"{name}: image by image: {batch.Reason}");

            var explainable = new OnnxExplainable(model, null);
            var resolved = model.ResolveLayer(module);
            if (resolved != tensor)
            {
                notes.Add($"{name}: module path `{module}` resolves to `{resolved ?? "nothing"}`, not `{tensor}`");
                passed = false;
            }
            string activations = explainable.ActivationsOf(tensor);
            if (activations != tensor) target += $" (A read after its ReLU `{activations}`)";

            var explainer = new CamExplainer(explainable, kernels);
            var image = Tensor.FromArray(input, shape);
            var cells = new List<string>();
            foreach (var (method, file) in new[] { ("gradcam", "gradcam"), ("gradcam++", "gradcampp") })
            {
                var (expected, _) = Npy.Read(Path.Combine(dir, $"{name}.{file}.npy"));
                var map = explainer.Explain(CamMethods.Create(method), image, CamTarget.Class(targetClass), module).NormalizedOf(0).ToArray();
                var (r, delta) = Compare(map, expected);
                cells.Add($"{r:F5} / {delta:F4}");
                if (r < PearsonBound || delta > DeltaBound)
                {
                    notes.Add($"{name}: {method} at `{module}` for class {targetClass}: r {r:F4}, max |Δ| {delta:F4}");
                    passed = false;
                }
                if (activations != tensor)
                {
                    // What the same method gives without pairing ReLU(A) with ∂y/∂A: where pytorch-grad-cam's in-place ReLU matters.
                    var plain = new CamExplainer(new OnnxExplainable(model, null) { InPlaceRelu = false }, kernels);
                    var (rPlain, deltaPlain) = Compare(plain.Explain(CamMethods.Create(method), image, CamTarget.Class(targetClass), module).NormalizedOf(0).ToArray(), expected);
                    notes.Add($"{name}: {method} with A itself (InPlaceRelu = false) instead of ReLU(A): r {rPlain:F5}, max |Δ| {deltaPlain:F4}");
                }
            }
            var defaultModules = model.ModulePaths.ModulesOf(explainable.DefaultLayer);
            string defaultLayer = explainable.DefaultLayer == tensor ? "= target"
                : $"`{explainable.DefaultLayer}`{(defaultModules.Count > 0 ? $" ({string.Join(", ", defaultModules)})" : "")}";
            return new Row(Cells("yes", $"{logitError.ToString("0.0e+0", CultureInfo.InvariantCulture)} | {(batch.Independent ? "one pass" : "image by image")} | {cells[0]} | {cells[1]} | {target} | {defaultLayer}"), passed);
        }
        catch (Exception ex) when (ex is NotSupportedException or InvalidDataException or ArgumentException or InvalidOperationException)
        {
            notes.Add($"{name}: imported, then failed: {FirstLine(ex)}");
            return new Row(Cells("yes", $"failed | – | – | – | {target} | –"), false);
        }
    }

    private static string FirstLine(Exception ex) => $"{ex.GetType().Name}: {ex.Message.Split('\n')[0]}";

    /// <summary>max |actual − expected| over the largest |expected|.</summary>
    private static double MaxRelativeError(float[] actual, float[] expected)
    {
        if (actual.Length != expected.Length) throw new InvalidOperationException($"{actual.Length} logits, PyTorch has {expected.Length}");
        double scale = expected.Max(v => Math.Abs((double)v));
        return actual.Zip(expected).Max(p => Math.Abs((double)p.First - p.Second)) / scale;
    }

    /// <summary>Pearson r and max |Δ| of two maps of the same size.</summary>
    private static (double R, double MaxDelta) Compare(float[] map, float[] expected)
    {
        if (map.Length != expected.Length) throw new InvalidOperationException($"a map of {map.Length} values, pytorch-grad-cam's has {expected.Length}");
        double ma = map.Average(v => (double)v), mb = expected.Average(v => (double)v), sab = 0, saa = 0, sbb = 0, delta = 0;
        for (int i = 0; i < map.Length; i++)
        {
            double da = map[i] - ma, db = expected[i] - mb;
            sab += da * db;
            saa += da * da;
            sbb += db * db;
            delta = Math.Max(delta, Math.Abs((double)map[i] - expected[i]));
        }
        return (sab / Math.Sqrt(saa * sbb), delta);
    }

    private static string? Option(string[] args, string name)
    {
        int at = Array.IndexOf(args, name);
        if (at < 0) return null;
        return at + 1 < args.Length ? args[at + 1] : throw new ArgumentException($"{name} needs a value");
    }
}
