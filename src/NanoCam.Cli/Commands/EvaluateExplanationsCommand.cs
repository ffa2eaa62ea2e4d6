using NanoCam.Nn.Models;
using System.CommandLine;
using System.Text.Json;
using NanoCam.Cli.Shared;
using NanoCam.Explain.Methods;
using NanoCam.Data;
using NanoCam.Explain;
using NanoCam.Explain.Metrics;
using NanoCam.Imaging;
using Spectre.Console;

namespace NanoCam.Cli.Commands;

/// <summary>
/// <c>nanocam evaluate-explanations</c>: every explanation method (or the listed ones) on the first images of a data
/// set, scored by the metric families of <c>--metrics</c> — faithfulness (deletion / insertion AUC, average drop and
/// increase in confidence, ROAD), robustness (max / average sensitivity, local Lipschitz), complexity (sparseness,
/// entropy), localization (pointing game, CAM-paper localization when boxes are known) and sanity (cascading model
/// randomization) — with the time per image; one table, rows = methods.
/// </summary>
public static class EvaluateExplanationsCommand
{
    public static Command Create()
    {
        var model = CliOptions.Path("--model", "a NanoCam checkpoint (.safetensors with its .json beside it) or an .onnx file", PathRole.Model, required: true);
        var data = CliOptions.Make("--data", $"images to explain: {DataSpec.ValidForms}, or a folder of images (DIR/*.png, or DIR/CLASS/*.png)", "shapes");
        var labels = CliOptions.Make<string?>("--labels", "class names, one per line (or a JSON array), for ONNX models", null);
        var split = CliOptions.Make("--split", "split of --data (train|test)", "test");
        var methods = CliOptions.Make("--methods", $"all, or a comma-separated list of: {string.Join(", ", MethodList.All)}", "all");
        methods.Validators.Add(result => { if (MethodList.Problem(result.GetValueOrDefault<string>() ?? "", "--methods") is { } problem) result.AddError(problem); });
        var layer = CliOptions.Make<string?>("--layer", "target layer (see `nanocam layers`; default: the last spatial layer)", null);
        var count = CliOptions.Make("--count", "explain the first N images of the data", 100);
        var steps = CliOptions.Make("--steps", "deletion / insertion steps (⌈H·W/steps⌉ pixels each)", 32);
        var batch = CliOptions.Make("--batch", "images explained per call", 10);
        var metrics = CliOptions.Make("--metrics", $"all, or a comma-separated list of: {string.Join(", ", MetricList.Names)}", MetricList.Default);
        metrics.Validators.Add(result => { if (MetricList.Problem(result.GetValueOrDefault<string>() ?? "", "--metrics") is { } problem) result.AddError(problem); });
        var noiseRadius = CliOptions.Make("--noise-radius", "robustness: every input value moved by at most this much (uniform noise, in the model's normalized input units)", 0.1f);
        var noiseSamples = CliOptions.Make("--noise-samples", "robustness: noisy copies explained per image", 8);
        var json = CliOptions.Make("--json", "print the results as JSON (one object per method) instead of the table", false);
        var output = CliOptions.Path("--out", "also write the results as JSON to this file", PathRole.OutputFile);
        var target = TargetOption.Make();
        var detectorLayout = TargetOption.MakeLayout();
        var threads = CliOptions.Threads();
        var command = new Command("evaluate-explanations", "Score every explanation method on a data set: faithfulness, robustness, complexity, localization, sanity, time")
        {
            model, data, split, methods, layer, count, steps, batch, metrics, noiseRadius, noiseSamples, json, output, threads, labels, target, detectorLayout,
        };
        var preprocessing = new PreprocessingOptions();
        preprocessing.AddTo(command);
        var relevance = new RelevanceOptions();
        relevance.AddTo(command);
        command.SetAction(p => CliRunner.Guard(() =>
        {
            var names = ParseMethods(p.GetValue(methods)!);
            int imageCount = OptionChecks.AtLeast(p.GetValue(count), 1, "--count"), stepCount = OptionChecks.AtLeast(p.GetValue(steps), 1, "--steps"),
                batchSize = OptionChecks.AtLeast(p.GetValue(batch), 1, "--batch");
            var metricList = MetricList.Parse(p.GetValue(metrics)!, "--metrics");
            float radius = OptionChecks.Positive(p.GetValue(noiseRadius), "--noise-radius");
            int samples = OptionChecks.AtLeast(p.GetValue(noiseSamples), 1, "--noise-samples");
            var loaded = LoadedModel.Open(p.GetValue(model)!, p.GetValue(labels), preprocessing, p);
            var network = (loaded.Explainable as ModuleExplainable)?.Model;
            if (metricList.Sanity && (network is null || loaded.Metadata is null))
                throw new ArgumentException("the sanity metric re-initialises a NanoCam checkpoint's layers; an imported model's cannot be: leave sanity out of --metrics");
            var kernels = Backends.Create("cpu", p.GetValue(threads));
            network?.MoveTo(kernels);
            var source = DatasetImages.Open(p.GetValue(data)!, p.GetValue(split)!, loaded, EvaluationImages.DefaultChunk);
            var images = EvaluationImages.From(source, imageCount);
            var explainer = new CamExplainer(loaded.Explainable, kernels) { PassMemoryBudget = Evaluation.PassMemoryBudget };
            string layerName = p.GetValue(layer) ?? explainer.Model.DefaultLayer;
            var classifier = new ModelClassifier(explainer, images.Channels, images.Height, images.Width);
            CamTarget? fixedTarget = null;
            if (p.GetValue(target) is { } targetText)
            {
                fixedTarget = TargetOption.Parse(targetText, loaded, explainer,
                    Tensor.FromArray(images.Slice(0, 1), 1, images.Channels, images.Height, images.Width), p.GetValue(detectorLayout)!);
                TargetOption.CheckMethods(names, fixedTarget);
                if (!fixedTarget.IsClassScore && (metricList.Faithfulness || metricList.Sanity))
                    throw new ArgumentException($"--target {fixedTarget}: faithfulness and sanity measure a class's score, and this target is not one; --metrics complexity,localization,robustness read the map only");
            }
            var metadata = loaded.Metadata;
            var settings = new EvaluationSettings(metricList, stepCount, batchSize, radius, samples)
            {
                Target = fixedTarget,
                Trained = network,
                Attribution = relevance.Apply(new InputAttributionSettings(), p, loaded, tensorInput: false),
                FreshModel = metadata is null ? null : () => Architectures.Create(metadata.Architecture, metadata.InputChannels, metadata.Classes.Length, metadata.Seed + 1),
            };
            bool quiet = p.GetValue(json);
            if (!quiet) Console.WriteLine(Describe(images, source.Description, layerName, settings));
            // One untimed Grad-CAM of one image first, so that the first timed method does not pay for compiling the shared path.
            explainer.Explain(new Explain.Methods.GradCam(), Tensor.FromArray(images.Slice(0, 1), 1, images.Channels, images.Height, images.Width), fixedTarget ?? CamTarget.TopPrediction(), layerName);
            var rows = new List<ExplanationScores>();
            foreach (var name in names)
            {
                // Without --layer a CAM method explains its own default layer (abn-attention: the attention map); one that does
                // not apply to this network (abn-attention without an attention branch) is skipped with its reason when
                // several methods run, and refused when it is the only one.
                string methodLayer = layerName;
                if (p.GetValue(layer) is null && !MethodList.IsInputSpace(name))
                {
                    var cam = CamMethods.Create(name);
                    methodLayer = explainer.LayerFor(cam, null);
                    if (cam.WhyNotApplicable(explainer.Model, methodLayer) is { } why)
                    {
                        if (names.Count == 1) throw new ArgumentException($"{name}: {why}");
                        Console.Error.WriteLine($"nanocam: skipped {name}: {why}");
                        continue;
                    }
                }
                rows.Add(ExplanationEvaluation.Evaluate(name, explainer, classifier, images, methodLayer, settings));
                if (!quiet) Console.WriteLine($"  {name}: {rows[^1].MillisecondsPerImage:F1} ms/image");
            }
            if (p.GetValue(output) is { } path) AtomicFile.WriteAllText(path, Json(rows, indented: true));
            if (quiet) Console.WriteLine(Json(rows, indented: false));
            else Print(rows);
            return 0;
        }));
        return command;
    }

    /// <summary>"all" → every method; otherwise the comma-separated names, each known, in the order given.</summary>
    public static IReadOnlyList<string> ParseMethods(string value) => MethodList.Parse(value, "--methods");

    /// <summary>The line above the table: the images, the layer, and the settings of the metrics asked for.</summary>
    private static string Describe(EvaluationImages images, string data, string layer, EvaluationSettings settings)
    {
        var parts = new List<string> { $"{images.Count} images of {data}, layer '{layer}'" };
        if (settings.Metrics.Faithfulness) parts.Add($"{settings.Steps} deletion/insertion steps, ROAD at {string.Join("/", settings.RoadPercents)}% removed");
        if (settings.Metrics.Localization) parts.Add($"pointing tolerance {PointingGame.ScaledTolerance(images.Height, images.Width):0.##} px");
        if (settings.Metrics.Robustness) parts.Add($"robustness noise radius {settings.NoiseRadius:0.###} × {settings.NoiseSamples} samples");
        if (settings.Metrics.Sanity) parts.Add($"sanity: layers re-initialised from the top down, fails when the mean |ρ| over the steps > {ModelRandomization.FailThreshold}");
        return string.Join(", ", parts);
    }

    public static void Print(IReadOnlyList<ExplanationScores> rows)
    {
        var first = rows[0];
        var table = new Table().Border(TableBorder.Markdown).AddColumn(new TableColumn("method").NoWrap());
        var headers = new List<string>();
        if (first.Faithfulness is not null) headers.AddRange(["deletion AUC ↓", "insertion AUC ↑", "avg drop % ↓", "avg increase % ↑", "ROAD MoRF drop ↑", "ROAD LeRF drop ↓"]);
        if (first.Localization is not null) headers.AddRange(["pointing game % ↑", "localization % ↑"]);
        if (first.Robustness is not null) headers.AddRange(["max sens. ↓", "avg sens. ↓", "local Lipschitz ↓"]);
        if (first.Complexity is not null) headers.AddRange(["sparseness ↑", "entropy ↓"]);
        if (first.Sanity is not null) headers.AddRange(["sanity ρ full", "sanity ρ mean ↓", "sanity"]);
        headers.Add("ms / image");
        foreach (var header in headers) table.AddColumn(new TableColumn(header).RightAligned().NoWrap());
        string Percent(double? v) => v is { } x ? $"{x:F1}" : "–";
        string Value(double? v, string format) => v is { } x ? x.ToString(format, System.Globalization.CultureInfo.InvariantCulture) : "–";
        foreach (var r in rows)
        {
            var cells = new List<string> { Markup.Escape(r.Method) };
            if (r.Faithfulness is { } f)
                cells.AddRange([$"{f.DeletionAuc:F3}", $"{f.InsertionAuc:F3}", $"{f.AverageDrop:F1}", $"{f.IncreaseInConfidence:F1}",
                    $"{f.RoadMostRelevantFirstMean:F3}", $"{f.RoadLeastRelevantFirstMean:F3}"]);
            if (r.Localization is { } l) cells.AddRange([Percent(l.PointingGame), Percent(l.Localization)]);
            if (r.Robustness is { } b) cells.AddRange([Value(b.MaxSensitivity, "F3"), Value(b.AverageSensitivity, "F3"), $"{b.LocalLipschitz:F3}"]);
            if (r.Complexity is { } c) cells.AddRange([$"{c.Sparseness:F3}", $"{c.Entropy:F3}"]);
            if (r.Sanity is { } s) cells.AddRange([$"{s.FullRandomization:F3}", $"{s.CascadeMean:F3}", s.Fails ? "fails" : "passes"]);
            cells.Add($"{r.MillisecondsPerImage:F1}");
            table.AddRow(cells.ToArray());
        }
        // Markdown borders and room for every column, also when the output is a file or a pipe (80 columns by default).
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        console.Profile.Width = Math.Max(console.Profile.Width, 400);
        console.Write(table);
        if (first.Localization is not null && rows.All(r => r.Localization!.PointingGame is null))
            Console.WriteLine("pointing game and localization need ground-truth boxes; this data set has none (the embedded 'shapes' data set has them)");
        if (first.Sanity is not null) PrintCascade(rows, console);
    }

    /// <summary>Mean ρ after each step of the randomization cascade, a row per method, the layers in the order they were re-initialised.</summary>
    private static void PrintCascade(IReadOnlyList<ExplanationScores> rows, IAnsiConsole console)
    {
        Console.WriteLine();
        Console.WriteLine("sanity: mean Spearman ρ between the original and the randomised maps, layers re-initialised from the top down (cumulative, left to right):");
        var table = new Table().Border(TableBorder.Markdown).AddColumn(new TableColumn("method").NoWrap());
        foreach (var step in rows[0].Sanity!.Cascade) table.AddColumn(new TableColumn(Markup.Escape(step.Layer)).RightAligned().NoWrap());
        foreach (var r in rows) table.AddRow([Markup.Escape(r.Method), .. r.Sanity!.Cascade.Select(step => $"{step.Mean:F3}")]);
        console.Write(table);
        var failing = rows.Where(r => r.Sanity!.Fails).Select(r => r.Method).ToList();
        Console.WriteLine(failing.Count == 0 ? "sanity: every method passes" : $"sanity: {string.Join(", ", failing)} fail{(failing.Count == 1 ? "s" : "")} (mean |ρ| over the steps > {ModelRandomization.FailThreshold})");
    }

    public static string Json(IReadOnlyList<ExplanationScores> rows, bool indented) =>
        JsonSerializer.Serialize(rows.Select(JsonRow), new JsonSerializerOptions { WriteIndented = indented });

    /// <summary>One method's JSON object: its name, the image count, the keys of every metric family asked for, the time per image.</summary>
    private static Dictionary<string, object?> JsonRow(ExplanationScores r)
    {
        var row = new Dictionary<string, object?> { ["method"] = r.Method, ["images"] = r.Images };
        if (r.Faithfulness is { } f)
            Put(row, ("deletion_auc", f.DeletionAuc), ("insertion_auc", f.InsertionAuc), ("average_drop_percent", f.AverageDrop),
                ("average_increase_percent", f.IncreaseInConfidence), ("road_most_relevant_first", f.RoadMostRelevantFirstMean),
                ("road_least_relevant_first", f.RoadLeastRelevantFirstMean), ("road_percents", f.RoadPercents),
                ("road_most_relevant_first_by_percent", f.RoadMostRelevantFirst), ("road_least_relevant_first_by_percent", f.RoadLeastRelevantFirst));
        if (r.Localization is { } l) Put(row, ("pointing_game_percent", l.PointingGame), ("localization_percent", l.Localization));
        if (r.Robustness is { } b)
            Put(row, ("max_sensitivity", b.MaxSensitivity), ("avg_sensitivity", b.AverageSensitivity), ("local_lipschitz", b.LocalLipschitz));
        if (r.Complexity is { } c) Put(row, ("sparseness", c.Sparseness), ("entropy", c.Entropy));
        if (r.Sanity is { } s)
            Put(row, ("sanity_spearman", s.FullRandomization), ("sanity_spearman_cascade_mean", s.CascadeMean), ("sanity_fails", s.Fails),
                ("sanity_spearman_by_layer", s.Cascade.Select(step => new Dictionary<string, object> { ["layer"] = step.Layer, ["spearman"] = step.Mean }).ToArray()));
        row["ms_per_image"] = r.MillisecondsPerImage;
        return row;
    }

    /// <summary>Adds a metric family's keys to a JSON row, in the order given.</summary>
    private static void Put(Dictionary<string, object?> row, params (string Key, object? Value)[] entries)
    {
        foreach (var (key, value) in entries) row[key] = value;
    }
}
