using NanoCam.Nn.Models;
using System.CommandLine;
using System.Text.Json;
using NanoCam.Cli.Shared;
using NanoCam.Data;
using Spectre.Console;

namespace NanoCam.Cli.Commands;

/// <summary>
/// <c>nanocam eval</c>: accuracy, per-class accuracy, confusion matrix, and CAM localization accuracy; for a dense
/// checkpoint (seg-fcn, det-grid) the IoU figures of <see cref="DenseEvaluation"/>.
/// </summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var model = CliOptions.Path("--model", "checkpoint (.safetensors with its .json beside it), a graph checkpoint (train --init) or an .onnx file", PathRole.Model, required: true);
        var data = CliOptions.Make("--data", $"evaluation data: {DataSpec.ValidForms}", "shapes");
        var split = CliOptions.Make("--split", "split of --data (train|test)", "test");
        var localization = CliOptions.Make("--localization", "also report CAM-paper localization accuracy (needs boxes: the shapes data set, or IDX/MNIST digits boxed by their ink)", false);
        var topK = CliOptions.Make("--topk", "also report top-K accuracy and, with --localization, top-K localization (the CAM paper's top-5 protocol)", 1);
        var json = CliOptions.Make("--json", "print one JSON object as the last line", false);
        var threads = CliOptions.Threads();
        var device = CliOptions.Device();
        var command = new Command("eval", "Evaluate a trained model: accuracy, per-class accuracy, confusion matrix, localization")
        {
            model, data, split, localization, topK, json, threads, device,
        };
        command.SetAction(p => CliRunner.Guard(() =>
        {
            string path = p.GetValue(model)!;
            var dataset = DataSpec.Parse(p.GetValue(data)!, p.GetValue(split)!);
            int k = OptionChecks.AtLeast(p.GetValue(topK), 1, "--topk");
            var kernels = Backends.Create(p.GetValue(device)!, p.GetValue(threads));
            EvaluationReport report;
            if (ImportedEvaluation.IsImported(path))
            {
                var (evaluated, normalization) = ImportedEvaluation.Open(path, dataset);
                Console.WriteLine($"normalization: {normalization}");
                report = Evaluation.Run(evaluated, dataset, kernels, p.GetValue(localization), topK: k);
            }
            else
            {
                var trained = TrainedModel.Load(path);
                if (trained.Model is not GapCnn)
                {
                    // A dense network: the figures training counts, against the data set's masks (DenseEvaluation).
                    if (p.GetValue(localization)) throw new ArgumentException($"--localization scores a classifier's CAM boxes; this {trained.Metadata.Architecture} predicts {(trained.Model is SegmentationFcn ? "masks" : "boxes")} itself, and eval reports their IoU");
                    if (k > 1) throw new ArgumentException($"--topk is for classifiers; this {trained.Metadata.Architecture} has a dense output");
                    var dense = DenseEvaluation.Run(trained.Model, trained.Metadata, dataset, kernels);
                    dense.Print();
                    if (p.GetValue(json)) Console.WriteLine(dense.Json());
                    return 0;
                }
                report = Evaluation.Run(trained.Network, trained.Metadata, dataset, kernels, p.GetValue(localization), topK: k);
            }
            Print(report);
            if (p.GetValue(json)) Console.WriteLine(Json(report));
            return 0;
        }));
        return command;
    }

    public static void Print(EvaluationReport report)
    {
        Console.WriteLine($"accuracy {100 * report.Accuracy:F2}% ({report.Correct}/{report.Examples})");
        if (report.AttentionBranchAccuracy is { } attention)
            Console.WriteLine($"attention branch accuracy {100 * attention:F2}% ({report.AttentionBranchCorrect}/{report.Examples}; the accuracy above is the perception branch's, the network's output)");
        if (report.LocalizationAccuracy is { } loc)
            Console.WriteLine($"localization accuracy {100 * loc:F2}% ({report.LocalizationHits}/{report.LocalizationExamples}; {MapName(report)} ≥ 20% of max, largest component, IoU ≥ 0.5 and right class)");
        if (report.TopK > 1)
        {
            Console.WriteLine($"top-{report.TopK} accuracy {100 * report.TopKAccuracy:F2}% ({report.TopKCorrect}/{report.Examples})");
            if (report.TopKLocalizationAccuracy is { } topLoc)
                Console.WriteLine($"top-{report.TopK} localization accuracy {100 * topLoc:F2}% ({report.TopKLocalizationHits}/{report.LocalizationExamples}; the true class among the {report.TopK} best and its {MapName(report)} box IoU ≥ 0.5)");
        }
        int classes = report.ClassNames.Count;
        if (classes > 20) return;
        var table = new Table().AddColumn("true \\ predicted");
        for (int c = 0; c < classes; c++) table.AddColumn(Markup.Escape(report.ClassNames[c]));
        table.AddColumn("class acc");
        for (int t = 0; t < classes; t++)
        {
            var row = new List<string> { Markup.Escape(report.ClassNames[t]) };
            for (int c = 0; c < classes; c++) row.Add(report.Confusion[t, c].ToString());
            row.Add($"{100 * report.ClassAccuracy(t):F1}%");
            table.AddRow(row.ToArray());
        }
        AnsiConsole.Write(table);
    }

    /// <summary>The maps the boxes came from, as the printed lines name them.</summary>
    private static string MapName(EvaluationReport report) =>
        report.LocalizationMethod == "gradcam" ? "Grad-CAM at the default layer (the model has no GAP/GMP → FC head for CAM)" : "CAM";

    public static string Json(EvaluationReport report)
    {
        var perClass = new Dictionary<string, double>();
        for (int c = 0; c < report.ClassNames.Count; c++) perClass[report.ClassNames[c]] = report.ClassAccuracy(c);
        var values = new Dictionary<string, object?>
        {
            ["accuracy"] = report.Accuracy,
            ["examples"] = report.Examples,
            ["per_class_accuracy"] = perClass,
        };
        if (report.LocalizationAccuracy is { } loc) values["localization_accuracy"] = loc;
        if (report.TopK > 1)
        {
            values[$"top{report.TopK}_accuracy"] = report.TopKAccuracy;
            if (report.TopKLocalizationAccuracy is { } topLoc) values[$"top{report.TopK}_localization_accuracy"] = topLoc;
        }
        if (report.AttentionBranchAccuracy is { } attention) values["attention_branch_accuracy"] = attention;
        return JsonSerializer.Serialize(values);
    }
}
