using NanoCam.Nn.Models;
using System.CommandLine;
using System.Text.Json;
using NanoCam.Cli.Shared;
using NanoCam.Data;
using NanoCam.Explain;
using NanoCam.Explain.Metrics;
using NanoCam.Imaging;
using Spectre.Console;

namespace NanoCam.Cli.Commands;

/// <summary>
/// <c>nanocam evaluate-explanations</c>: every explanation method (or the listed ones) on the first images of a data
/// set, scored by faithfulness (deletion / insertion AUC, average drop and increase in confidence) and localization
/// (pointing game, CAM-paper localization when boxes are known), with the time per image; one table, rows = methods.
/// </summary>
public static class EvaluateExplanationsCommand
{
    public static Command Create()
    {
        var model = CliOptions.Path("--model", "checkpoint (.safetensors with its .json beside it)", PathRole.Checkpoint, required: true);
        var data = CliOptions.Make("--data", $"images to explain: {DataSpec.ValidForms}", "shapes");
        var split = CliOptions.Make("--split", "split of --data (train|test)", "test");
        var methods = CliOptions.Make("--methods", $"all, or a comma-separated list of: {string.Join(", ", MethodList.All)}", "all");
        methods.Validators.Add(result => { if (MethodList.Problem(result.GetValueOrDefault<string>() ?? "", "--methods") is { } problem) result.AddError(problem); });
        var layer = CliOptions.Make<string?>("--layer", "target layer (see `nanocam layers`; default: the last spatial layer)", null);
        var count = CliOptions.Make("--count", "explain the first N images of the data", 100);
        var steps = CliOptions.Make("--steps", "deletion / insertion steps (⌈H·W/steps⌉ pixels each)", 32);
        var batch = CliOptions.Make("--batch", "images explained per call", 10);
        var json = CliOptions.Make("--json", "print the results as JSON (one object per method) instead of the table", false);
        var output = CliOptions.Path("--out", "also write the results as JSON to this file", PathRole.OutputFile);
        var threads = CliOptions.Threads();
        var command = new Command("evaluate-explanations", "Score every explanation method on a data set: deletion/insertion AUC, average drop/increase, pointing game, localization, time")
        {
            model, data, split, methods, layer, count, steps, batch, json, output, threads,
        };
        command.SetAction(p => CliRunner.Guard(() =>
        {
            var names = ParseMethods(p.GetValue(methods)!);
            int imageCount = OptionChecks.AtLeast(p.GetValue(count), 1, "--count"), stepCount = OptionChecks.AtLeast(p.GetValue(steps), 1, "--steps"),
                batchSize = OptionChecks.AtLeast(p.GetValue(batch), 1, "--batch");
            var trained = TrainedModel.Load(p.GetValue(model)!);
            var dataset = DataSpec.Parse(p.GetValue(data)!, p.GetValue(split)!);
            var images = EvaluationImages.Load(dataset, trained.Metadata, imageCount);
            var explainer = new CamExplainer(new ModuleExplainable(trained.Network, trained.Metadata.Classes), Backends.Create("cpu", p.GetValue(threads)))
            {
                PassMemoryBudget = Evaluation.PassMemoryBudget,
            };
            string layerName = p.GetValue(layer) ?? explainer.Model.DefaultLayer;
            var classifier = new ModelClassifier(explainer, images.Channels, images.Height, images.Width);
            bool quiet = p.GetValue(json);
            if (!quiet)
                Console.WriteLine($"{images.Count} images of {dataset.Description}, layer '{layerName}', {stepCount} deletion/insertion steps, "
                    + $"pointing tolerance {PointingGame.ScaledTolerance(images.Height, images.Width):0.##} px");
            // One untimed Grad-CAM of one image first, so that the first timed method does not pay for compiling the shared path.
            explainer.Explain(new Explain.Methods.GradCam(), Tensor.FromArray(images.Slice(0, 1), 1, images.Channels, images.Height, images.Width), CamTarget.TopPrediction(), layerName);
            var rows = new List<ExplanationScores>();
            foreach (var name in names)
            {
                rows.Add(ExplanationEvaluation.Evaluate(name, explainer, classifier, images, layerName, stepCount, batchSize));
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

    public static void Print(IReadOnlyList<ExplanationScores> rows)
    {
        bool boxes = rows.Any(r => r.PointingGame is not null);
        var table = new Table().Border(TableBorder.Markdown)
            .AddColumn(new TableColumn("method").NoWrap())
            .AddColumn(new TableColumn("deletion AUC ↓").RightAligned().NoWrap())
            .AddColumn(new TableColumn("insertion AUC ↑").RightAligned().NoWrap())
            .AddColumn(new TableColumn("avg drop % ↓").RightAligned().NoWrap())
            .AddColumn(new TableColumn("avg increase % ↑").RightAligned().NoWrap())
            .AddColumn(new TableColumn("pointing game % ↑").RightAligned().NoWrap())
            .AddColumn(new TableColumn("localization % ↑").RightAligned().NoWrap())
            .AddColumn(new TableColumn("ms / image").RightAligned().NoWrap());
        string Percent(double? v) => v is { } x ? $"{x:F1}" : "–";
        foreach (var r in rows)
            table.AddRow(Markup.Escape(r.Method), $"{r.DeletionAuc:F3}", $"{r.InsertionAuc:F3}", $"{r.AverageDrop:F1}", $"{r.IncreaseInConfidence:F1}",
                Percent(r.PointingGame), Percent(r.Localization), $"{r.MillisecondsPerImage:F1}");
        // Markdown borders and room for every column, also when the output is a file or a pipe (80 columns by default).
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        console.Profile.Width = Math.Max(console.Profile.Width, 200);
        console.Write(table);
        if (!boxes) Console.WriteLine("pointing game and localization need ground-truth boxes; this data set has none (the embedded 'shapes' data set has them)");
    }

    public static string Json(IReadOnlyList<ExplanationScores> rows, bool indented) =>
        JsonSerializer.Serialize(rows.Select(r => new Dictionary<string, object?>
        {
            ["method"] = r.Method,
            ["images"] = r.Images,
            ["deletion_auc"] = r.DeletionAuc,
            ["insertion_auc"] = r.InsertionAuc,
            ["average_drop_percent"] = r.AverageDrop,
            ["average_increase_percent"] = r.IncreaseInConfidence,
            ["pointing_game_percent"] = r.PointingGame,
            ["localization_percent"] = r.Localization,
            ["ms_per_image"] = r.MillisecondsPerImage,
        }), new JsonSerializerOptions { WriteIndented = indented });
}
