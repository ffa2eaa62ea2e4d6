using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using NanoCam.Autodiff;
using NanoCam.Explain;
using NanoCam.Explain.Methods;
using NanoCam.Imaging;
using NanoCam.Onnx;

namespace NanoCam.Benchmarks;

/// <summary>
/// `torchvision-zoo [--dir D] [--models a,b] [--threads T]`: every full-size torchvision classifier that
/// benchmarks/pytorch/export_torchvision_zoo.py exported to D, run through NanoCam and held against PyTorch: import
/// (or its one-line error), logits' and the target layer's activations' max |Δ| over their largest magnitude, whether
/// a batch runs in one pass (<see cref="OnnxModel.Batch"/>), Grad-CAM and Grad-CAM++ at the PyTorch module
/// pytorch-grad-cam hooked (passed as the module path, as to `--layer`) against pytorch-grad-cam's maps (Pearson r,
/// max |Δ|), and the default layer `nanocam layers` names (with Grad-CAM there when it is another tensor). Prints a
/// markdown table, then one line per finding; exits 1 when a model is outside the zoo tests' bounds.
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
        Console.WriteLine("| model | import | logits max \\|Δ\\| / max \\|logit\\| | target A max \\|Δ\\| / max \\|A\\| | batch | Grad-CAM r / max \\|Δ\\| | Grad-CAM++ r / max \\|Δ\\| | target (module → ONNX tensor) | `nanocam layers` default | s |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
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
        "densenet121", "googlenet", "inception_v3", "shufflenet_v2_x1_0", "mnasnet1_0", "regnet_y_400mf", "convnext_tiny", "convnext_tiny_op17",
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
            return new Row(Cells("no", $"– | – | – | – | – | {target} | –"), false);
        }

        try
        {
            var (input, shape) = Npy.Read(Path.Combine(dir, $"{name}.input.npy"));
            var (expectedLogits, _) = Npy.Read(Path.Combine(dir, $"{name}.logits.npy"));
            var tape = new Tape(kernels) { GradEnabled = false };
            tape.Keep(tensor);
            var logits = model.Run(tape, Tensor.FromArray(input, shape)).ToArray();
            double logitError = MaxRelativeError(logits, expectedLogits);
            bool passed = logitError <= LogitBound;
            if (!passed) notes.Add($"{name}: logits differ by {logitError:E2} of the largest (bound {LogitBound:0e0})");
            string activationCell = "–";
            if (File.Exists(Path.Combine(dir, $"{name}.activations.npy")))
            {
                // The target's own values: where random weights leave the logits insensitive to the features, this still checks them.
                var (expectedActivations, _) = Npy.Read(Path.Combine(dir, $"{name}.activations.npy"));
                double activationError = MaxRelativeError(tape.Find(tensor).ToArray(), expectedActivations);
                activationCell = Scientific(activationError);
                if (activationError > LogitBound)
                {
                    notes.Add($"{name}: the activations at `{tensor}` differ by {activationError:E2} of the largest");
                    passed = false;
                }
            }

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
            foreach (var (method, file) in Methods)
            {
                var expected = Npy.Read(Path.Combine(dir, $"{name}.{file}.npy")).Data;
                var result = explainer.Explain(CamMethods.Create(method), image, CamTarget.Class(targetClass), module);
                var match = Compare(result, expected);
                cells.Add(match.Cell);
                if (!match.Passed)
                {
                    notes.Add($"{name}: {method} at `{module}` for class {targetClass}: {match.Cell}");
                    passed = false;
                }
                if (match.Note is { } note) notes.Add($"{name}: {method}: {note}");
                if (activations != tensor)
                {
                    // What the same method gives without pairing ReLU(A) with ∂y/∂A: where pytorch-grad-cam's in-place ReLU matters.
                    var plain = new CamExplainer(new OnnxExplainable(model, null) { InPlaceRelu = false }, kernels);
                    var withoutRelu = Compare(plain.Explain(CamMethods.Create(method), image, CamTarget.Class(targetClass), module), expected);
                    notes.Add($"{name}: {method} with A itself (InPlaceRelu = false) instead of ReLU(A): {withoutRelu.Cell}");
                }
            }
            var defaultModules = model.ModulePaths.ModulesOf(explainable.DefaultLayer);
            string defaultLayer = explainable.DefaultLayer == tensor ? "= target"
                : $"`{explainable.DefaultLayer}`{(defaultModules.Count > 0 ? $" ({string.Join(", ", defaultModules)})" : "")}";
            if (explainable.DefaultLayer != tensor)
            {
                // The map a user gets without --layer, held against pytorch-grad-cam's at the recommended layer.
                var shapeOf = model.DescribeLayers().SelectMany(l => l.Outputs.Zip(l.OutputShapes)).First(o => o.First == explainable.DefaultLayer).Second;
                var atDefault = Compare(explainer.Explain(CamMethods.Create("gradcam"), image, CamTarget.Class(targetClass)), Npy.Read(Path.Combine(dir, $"{name}.gradcam.npy")).Data);
                notes.Add($"{name}: `nanocam layers`' default `{explainable.DefaultLayer}` [{string.Join(", ", shapeOf ?? [])}]: Grad-CAM there against pytorch-grad-cam's at `{module}`: {atDefault.Cell}");
            }
            return new Row(Cells("yes", $"{Scientific(logitError)} | {activationCell} | {(batch.Independent ? "one pass" : "image by image")} | {cells[0]} | {cells[1]} | {target} | {defaultLayer}"), passed);
        }
        catch (Exception ex) when (ex is NotSupportedException or InvalidDataException or ArgumentException or InvalidOperationException)
        {
            notes.Add($"{name}: imported, then failed: {FirstLine(ex)}");
            return new Row(Cells("yes", $"failed | – | – | – | – | {target} | –"), false);
        }
    }

    private static string FirstLine(Exception ex) => $"{ex.GetType().Name}: {ex.Message.Split('\n')[0]}";

    /// <summary>max |actual − expected| over the largest |expected|.</summary>
    private static double MaxRelativeError(float[] actual, float[] expected)
    {
        if (actual.Length != expected.Length) throw new InvalidOperationException($"{actual.Length} values, PyTorch has {expected.Length}");
        double scale = expected.Max(v => Math.Abs((double)v));
        return actual.Zip(expected).Max(p => Math.Abs((double)p.First - p.Second)) / scale;
    }

    private static readonly (string Method, string File)[] Methods = [("gradcam", "gradcam"), ("gradcam++", "gradcampp")];

    /// <summary>pytorch-grad-cam's ε in scale_cam_image: (m − min m) / (max(m − min m) + 1e-7), at the layer and again after resizing.</summary>
    private const double ScaleEpsilon = 1e-7;

    private sealed record MapMatch(string Cell, bool Passed, string? Note);

    /// <summary>
    /// Pearson r and max |Δ| of NanoCam's normalized map against pytorch-grad-cam's. Scaling at the layer, resizing and
    /// scaling again gives pytorch-grad-cam's map as NanoCam's times u / (u + ε(a + ε)), with a the raw map's range at the
    /// layer and u its range after upsampling (docs/pytorch-grad-cam-parity.md, "The shared tail"); that factor is 1 to
    /// 1e-7 unless the raw map spans less than about 1e-5. Where it does not, the cell also gives max |Δ| with the factor
    /// applied, and that decides. Two flat maps (all zero) match with r undefined.
    /// </summary>
    private static MapMatch Compare(CamResult result, float[] expected)
    {
        var map = result.NormalizedOf(0).ToArray();
        if (map.Length != expected.Length) throw new InvalidOperationException($"a map of {map.Length} values, pytorch-grad-cam's has {expected.Length}");
        var (r, delta) = PearsonAndMaxDelta(map, expected);
        if (map.All(v => v == 0) && expected.All(v => v == 0)) return new("flat in both", true, "the map is zero (ReLU of a weighted sum that is nowhere positive) in both");
        double a = Range(result.MapOf(0)), u = Range(result.UpsampledOf(0));
        double factor = u / (u + ScaleEpsilon * (a + ScaleEpsilon));
        string cell = $"{r:F5} / {delta:F4}";
        if (factor > 1 - 1e-4) return new(cell, r >= PearsonBound && delta <= DeltaBound, null);
        double scaledDelta = map.Zip(expected).Max(p => Math.Abs(factor * p.First - p.Second));
        return new($"{cell} ({scaledDelta:F4} with ε)", r >= PearsonBound && scaledDelta <= DeltaBound,
            $"the raw map spans {a:E1} at the layer, so pytorch-grad-cam's ε = 1e-7 scales its map by {factor:F4} (its peak is {expected.Max():F4}); NanoCam's times that differs by {scaledDelta:E1} at most");
    }

    private static double Range(ReadOnlySpan<float> values)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (var v in values) { min = MathF.Min(min, v); max = MathF.Max(max, v); }
        return (double)max - min;
    }

    private static (double R, double MaxDelta) PearsonAndMaxDelta(float[] map, float[] expected)
    {
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

    private static string Scientific(double value) => value.ToString("0.0e+0", CultureInfo.InvariantCulture);

    private static string? Option(string[] args, string name)
    {
        int at = Array.IndexOf(args, name);
        if (at < 0) return null;
        return at + 1 < args.Length ? args[at + 1] : throw new ArgumentException($"{name} needs a value");
    }
}
