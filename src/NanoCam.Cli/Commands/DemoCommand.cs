using NanoCam.Nn.Models;
using System.CommandLine;
using System.Diagnostics;
using NanoCam.Cli.Shared;
using NanoCam.Data;
using NanoCam.Explain;
using NanoCam.Explain.Methods;
using NanoCam.Explain.Metrics;
using NanoCam.Imaging;

namespace NanoCam.Cli.Commands;

/// <summary>
/// <c>nanocam demo</c>, the main job: generate the embedded shapes data set, train a GAP-CNN from scratch, evaluate
/// accuracy and CAM localization, and write CAM overlays (ground-truth box green, CAM box red) and one HTML page.
/// </summary>
public static class DemoCommand
{
    public static Command Create()
    {
        var output = CliOptions.Path("--out", "directory for the model, the overlays and index.html", PathRole.OutputFolder, "out");
        var json = CliOptions.Make("--json", "print one JSON object (accuracy, localization_accuracy) as the last line", false);
        var epochs = CliOptions.Make("--epochs", "training epochs", 16);
        var trainCount = CliOptions.Make("--train-images", "generated training images", DataSpec.ShapesTrainCount);
        var examples = CliOptions.Make("--examples", "test images shown on the page", 24);
        var threads = CliOptions.Threads();
        var device = CliOptions.Device();
        var seed = CliOptions.Make("--seed", "seed", 1);
        var command = new Command("demo", "Train a GAP-CNN on the embedded shapes data set and show where it looks (CAM)")
        {
            output, json, epochs, trainCount, examples, threads, device, seed,
        };
        command.Subcommands.Add(DemoBiasCommand.Create());
        command.SetAction(p => CliRunner.Guard(() => Run(p.GetValue(output)!, p.GetValue(json), p.GetValue(epochs), p.GetValue(trainCount),
            p.GetValue(examples), p.GetValue(threads), p.GetValue(device)!, p.GetValue(seed))));
        return command;
    }

    private static int Run(string outDir, bool json, int epochs, int trainCount, int examples, int threads, string device, int seed)
    {
        OptionChecks.AtLeast(epochs, 1, "--epochs");
        OptionChecks.AtLeast(trainCount, 1, "--train-images");
        OptionChecks.AtLeast(examples, 1, "--examples");
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(outDir);
        var kernels = Backends.Create(device, threads);
        var train = new ShapesDataset(trainCount, DataSpec.ShapesTrainSeed);
        var test = new ShapesDataset(DataSpec.ShapesTestCount, DataSpec.ShapesTestSeed);
        var checkpoint = Path.Combine(outDir, "model.safetensors");
        // No validation pass per epoch: the test split is used once, at the end, and never to pick an epoch.
        var plan = new TrainingPlan
        {
            Architecture = "vgg", Train = train, Validation = null, DataSpec = "shapes", Epochs = epochs, Seed = seed, Output = checkpoint,
            BatchSize = 16, Optimizer = "adam", LearningRate = 3e-3f, Schedule = "cosine", Augment = true,
        };
        var model = new TrainingSession(plan, kernels).Run();
        var report = Evaluation.Run(model.Network, model.Metadata, test, kernels, localization: true);
        EvalCommand.Print(report);

        string summary = $"A {model.Metadata.Architecture} GAP-CNN trained from scratch for {epochs} epochs on {train.Count} generated 64×64 images " +
            $"({string.Join(", ", train.ClassNames)}; random crops and flips). Test accuracy {100 * report.Accuracy:F2}%, CAM localization accuracy {100 * report.LocalizationAccuracy:F2}% " +
            "(map ≥ 20% of its maximum, bounding box of the largest connected component, IoU ≥ 0.5 with the true box and the right class).";
        var figures = RenderExamples(model, test, kernels, Math.Min(examples, test.Count), Path.Combine(outDir, "cams"));
        var page = DemoPage.Build("NanoCam demo: class activation maps on the shapes data set", summary, figures, "jet");
        var pagePath = Path.Combine(outDir, "index.html");
        page.Save(pagePath);
        Console.WriteLine($"wrote {checkpoint}, {figures.Count} overlays in {Path.Combine(outDir, "cams")} and {pagePath} in {clock.Elapsed.TotalSeconds:F0} s");
        if (json) Console.WriteLine(EvalCommand.Json(report));
        return 0;
    }

    private static List<DemoExample> RenderExamples(TrainedModel model, Dataset test, IKernels kernels, int count, string directory)
    {
        Directory.CreateDirectory(directory);
        var loader = new DataLoader(new RangeDataset(test, 0, count), count, DataLoaderOptions.Evaluation with { Mean = model.Metadata.Mean, Std = model.Metadata.Std });
        var batch = loader.GetBatch(0, 0);
        var explainer = new CamExplainer(new ModuleExplainable(model.Network, model.Metadata.Classes), kernels) { PassMemoryBudget = Evaluation.PassMemoryBudget };
        var result = explainer.Explain(new Cam(), batch.Images, CamTarget.TopPrediction());
        var figures = new List<DemoExample>();
        for (int i = 0; i < batch.Count; i++)
        {
            int index = batch.Indices[i], predicted = result.Capture.TargetClasses[i], truth = test.GetLabel(index);
            var truthBox = test.GetBox(index) is { } b ? Evaluation.ToExclusive(b) : (Explain.Metrics.Box?)null;
            var camBox = Localization.BoxFromMap(result.NormalizedOf(i), test.Height, test.Width);
            var overlay = CamRendering.Overlay(ImageInput.ToDisplay(batch.Images, i, model.Metadata), result.NormalizedOf(i).ToArray(),
                test.Width, test.Height, "jet", truth: truthBox, predicted: camBox, scale: 3);
            ImageCodec.SavePng(overlay, Path.Combine(directory, $"test-{index:D4}.png"));
            double? iou = truthBox is { } t ? t.IoU(camBox) : null;
            figures.Add(new DemoExample(overlay, $"#{index}: {model.Metadata.Classes[predicted]}{(predicted == truth ? "" : $" (true: {model.Metadata.Classes[truth]})")}", iou));
        }
        return figures;
    }
}
