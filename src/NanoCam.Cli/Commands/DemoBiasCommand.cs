using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using NanoCam.Cli.Shared;
using NanoCam.Data;
using NanoCam.Explain;
using NanoCam.Explain.Methods;
using NanoCam.Explain.Metrics;
using NanoCam.Imaging;
using NanoCam.Nn.Models;

namespace NanoCam.Cli.Commands;

/// <summary>
/// <c>nanocam demo bias</c>: CAM catching a biased model. A corner marker co-occurs with one class in the training
/// images only; the plain GAP-CNN learns the marker, which CAM shows; retraining with the marker randomised over the
/// classes removes the shortcut. Writes one page of four panels and, with --json, the numbers as the last line.
/// </summary>
public static class DemoBiasCommand
{
    /// <summary>What one model scores on one test set.</summary>
    public sealed record BiasScores(double Accuracy, double MarkerMass, double PointingGame, int Images);

    public static Command Create()
    {
        var output = CliOptions.Path("--out", "directory for the two models, the overlays and index.html", PathRole.OutputFolder, "bias");
        var json = CliOptions.Make("--json", "print one JSON object (accuracies, CAM mass on the marker, pointing game; before and after the fix) as the last line", false);
        var small = CliOptions.Make("--small", "a quick run (900 training images, 3 epochs, 120 test images) for CI", false);
        var epochs = CliOptions.Make("--epochs", "training epochs per model (default 4; 3 with --small)", 0);
        var trainCount = CliOptions.Make("--train-images", "generated training images (default 3000; 900 with --small)", 0);
        var testCount = CliOptions.Make("--test-images", "test images per test set (default 300; 120 with --small)", 0);
        var markedClass = CliOptions.Make("--marked-class", $"class the marker co-occurs with: {string.Join(", ", ShapesDataset.ShapeNames)}", "star");
        var rate = CliOptions.Make("--co-occurrence", "share of the marked training images that belong to --marked-class", 0.95f);
        var examples = CliOptions.Make("--examples", "overlays per panel", 6);
        var threads = CliOptions.Threads();
        var device = CliOptions.Device();
        var seed = CliOptions.Make("--seed", "seed", 1);
        var fix = CliOptions.Make("--fix", "how the second model is trained: randomise (the marker on every class alike), fostering (the biased data, CAM fostering with --foster-cam λ) or abn (the biased data, an Attention Branch Network)", "randomise");
        fix.Validators.Add(result => { if (result.GetValueOrDefault<string>() is var f && !Fixes.Contains(f)) result.AddError($"--fix: unknown fix '{f}' (known: {string.Join(", ", Fixes)})"); });
        var fosterCam = CliOptions.Make("--foster-cam", "λ of CAM fostering with --fix fostering (0.1 already empties the maps of the shapes network: docs/cam-math.md §20)", 0.01f);
        var command = new Command("bias", "Train on shapes where a corner marker co-occurs with one class, show with CAM that the model looks at the marker, and fix it")
        {
            output, json, small, epochs, trainCount, testCount, markedClass, rate, examples, threads, device, seed, fix, fosterCam,
        };
        command.SetAction(p => CliRunner.Guard(() =>
        {
            bool quick = p.GetValue(small);
            int Pick(Option<int> option, int full, int reduced, string name) =>
                p.GetValue(option) is var v && v != 0 ? OptionChecks.AtLeast(v, 1, name) : quick ? reduced : full;
            var settings = new Settings(p.GetValue(output)!, p.GetValue(json), Pick(epochs, 4, 3, "--epochs"), Pick(trainCount, 3000, 900, "--train-images"),
                Pick(testCount, 300, 120, "--test-images"), ClassIndex(p.GetValue(markedClass)!), CheckRate(p.GetValue(rate)),
                OptionChecks.AtLeast(p.GetValue(examples), 1, "--examples"), p.GetValue(threads), p.GetValue(device)!, p.GetValue(seed),
                p.GetValue(fix)!, OptionChecks.Positive(p.GetValue(fosterCam), "--foster-cam"));
            return Run(settings);
        }));
        return command;
    }

    /// <summary>The fixes <c>--fix</c> takes.</summary>
    public static readonly IReadOnlyList<string> Fixes = ["randomise", "fostering", "abn"];

    private sealed record Settings(string Out, bool Json, int Epochs, int TrainCount, int TestCount, int MarkedClass, float Rate, int Examples, int Threads, string Device, int Seed,
        string Fix = "randomise", float FosterCam = 0.01f);

    private static int ClassIndex(string name)
    {
        int index = ShapesDataset.ShapeNames.ToList().IndexOf(name);
        return index >= 0 ? index : throw new ArgumentException($"--marked-class: unknown class '{name}' (known: {string.Join(", ", ShapesDataset.ShapeNames)})");
    }

    private static float CheckRate(float rate) =>
        float.IsFinite(rate) && rate > 0 && rate <= 1 ? rate : throw new ArgumentException($"--co-occurrence must lie in (0, 1], got {rate.ToString(CultureInfo.InvariantCulture)}");

    private static int Run(Settings s)
    {
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(s.Out);
        var kernels = Backends.Create(s.Device, s.Threads);
        var trainShapes = new ShapesDataset(s.TrainCount, DataSpec.ShapesTrainSeed);
        var testShapes = new ShapesDataset(Math.Min(s.TestCount, DataSpec.ShapesTestCount), DataSpec.ShapesTestSeed);
        string marked = ShapesDataset.ShapeNames[s.MarkedClass];
        var biasedTrain = new MarkedShapesDataset(trainShapes, s.MarkedClass, MarkerPlacement.Biased, s.Rate);
        // The fix: as many marked images, but the marker on every class alike.
        double markedShare = Enumerable.Range(0, biasedTrain.Count).Count(biasedTrain.IsMarked) / (double)biasedTrain.Count;
        var randomTrain = new MarkedShapesDataset(trainShapes, s.MarkedClass, MarkerPlacement.Random, markedShare);
        var clean = new MarkedShapesDataset(testShapes, s.MarkedClass, MarkerPlacement.None, 0);
        var moved = new MarkedShapesDataset(testShapes, s.MarkedClass, MarkerPlacement.OtherClasses, 0);

        var biased = Train(biasedTrain, Path.Combine(s.Out, "biased.safetensors"), s, kernels);
        // The second model: the randomised data with the plain network, or the biased data with fostering or ABN.
        var fixedModel = s.Fix switch
        {
            "fostering" => Train(biasedTrain, Path.Combine(s.Out, "fixed.safetensors"), s, kernels, fosterCam: s.FosterCam),
            "abn" => Train(biasedTrain, Path.Combine(s.Out, "fixed.safetensors"), s, kernels, architecture: "abn-vgg"),
            _ => Train(randomTrain, Path.Combine(s.Out, "fixed.safetensors"), s, kernels),
        };

        var before = (Clean: Score(biased, clean, kernels), Moved: Score(biased, moved, kernels));
        var after = (Clean: Score(fixedModel, clean, kernels), Moved: Score(fixedModel, moved, kernels));
        double uniformMass = (double)MarkedShapesDataset.MarkerSide * MarkedShapesDataset.MarkerSide / (testShapes.Height * testShapes.Width);

        var figures = Path.Combine(s.Out, "cams");
        Directory.CreateDirectory(figures);
        var trainExamples = Enumerable.Range(0, biasedTrain.Count).Where(i => biasedTrain.IsMarked(i) && biasedTrain.GetLabel(i) == s.MarkedClass).Take(s.Examples).ToArray();
        var movedExamples = Enumerable.Range(0, moved.Count).Where(moved.IsMarked).Take(s.Examples).ToArray();
        var cleanExamples = Enumerable.Range(0, clean.Count).Take(s.Examples).ToArray();
        string Pct(double v) => (100 * v).ToString("F1", CultureInfo.InvariantCulture) + "%";
        var panels = new List<DemoPanel>
        {
            new("1. What the model was trained on",
                $"In the training images a small magenta square sits in the top-left corner, and {Pct(s.Rate)} of the images that have it are {marked}s. " +
                $"The plain GAP-CNN reaches {Pct(biased.Metadata.Accuracy ?? 0)} training accuracy. Its CAM on marked {marked}s shows where it looks: the captions give the share of the map on the marker.",
                Render(biased, biasedTrain, trainExamples, kernels, figures, "train")),
            new("2. The marker put on other shapes",
                $"On test images of every other class with the marker painted in, accuracy falls to {Pct(before.Moved.Accuracy)}: the model answers '{marked}'. " +
                $"CAM reveals why: {Pct(before.Moved.MarkerMass)} of the map's mass lies on the marker square (which covers {Pct(uniformMass)} of the image), " +
                $"and the map's peak falls on the shape in only {Pct(before.Moved.PointingGame)} of the images.",
                Render(biased, moved, movedExamples, kernels, figures, "moved")),
            new("3. Unbiased test images",
                $"Without any marker, the biased model scores {Pct(before.Clean.Accuracy)}; its CAM peak lands on the shape in {Pct(before.Clean.PointingGame)} of the images.",
                Render(biased, clean, cleanExamples, kernels, figures, "clean")),
            new("4. After the fix",
                FixStory(s, markedShare, Pct) +
                $"With the marker on other shapes the accuracy is {Pct(after.Moved.Accuracy)}, the CAM mass on the marker {Pct(after.Moved.MarkerMass)}, " +
                $"the pointing game on the shape {Pct(after.Moved.PointingGame)}; on unbiased images {Pct(after.Clean.Accuracy)}.",
                Render(fixedModel, moved, movedExamples, kernels, figures, "fixed")),
        };
        string summary = $"A shortcut caught by CAM. {s.TrainCount} generated training images, {s.Epochs} epochs per model, {testShapes.Count} test images per test set; " +
            "CAM of the predicted class; 'mass on the marker' is the share of the ReLU'd, upsampled map inside the marker square (mean over the marked images); " +
            "the pointing game asks whether the map's maximum lies on the shape's true box (1.9 px tolerance).";
        var pagePath = Path.Combine(s.Out, "index.html");
        DemoPage.BuildStory("NanoCam demo: CAM catches a biased model", summary, panels, "jet").Save(pagePath);

        Console.WriteLine($"{"",-28}{"accuracy",10}{"marker mass",13}{"pointing",10}");
        foreach (var (name, score) in new[] { ("biased, unbiased test", before.Clean), ("biased, marker moved", before.Moved), ("fixed, unbiased test", after.Clean), ("fixed, marker moved", after.Moved) })
            Console.WriteLine($"{name,-28}{Pct(score.Accuracy),10}{Pct(score.MarkerMass),13}{Pct(score.PointingGame),10}");
        Console.WriteLine($"wrote {pagePath} and the two models in {s.Out} in {clock.Elapsed.TotalSeconds:F0} s");
        if (s.Json)
        {
            var numbers = new Dictionary<string, object>
            {
                ["marked_class"] = marked, ["co_occurrence"] = s.Rate, ["train_images"] = s.TrainCount, ["epochs"] = s.Epochs, ["test_images"] = testShapes.Count,
                ["marker_area_share"] = uniformMass, ["fix"] = s.Fix, ["before"] = Numbers(before), ["after"] = Numbers(after),
            };
            Console.WriteLine(JsonSerializer.Serialize(numbers));
        }
        return 0;
    }

    private static Dictionary<string, double> Numbers((BiasScores Clean, BiasScores Moved) scores) => new()
    {
        ["accuracy_unbiased"] = scores.Clean.Accuracy, ["accuracy_marker_on_other_classes"] = scores.Moved.Accuracy,
        ["marker_mass"] = scores.Moved.MarkerMass, ["pointing_game_marked"] = scores.Moved.PointingGame, ["pointing_game_unbiased"] = scores.Clean.PointingGame,
    };

    /// <summary>Panel 4's first sentences: what the second model was trained on, and what the fix changes.</summary>
    private static string FixStory(Settings s, double markedShare, Func<double, string> pct) => s.Fix switch
    {
        "fostering" => $"Retrained on the same biased images with CAM fostering (λ = {s.FosterCam.ToString(CultureInfo.InvariantCulture)}: the entropy of the true class's map added to the loss, " +
            "so the network learns maps concentrated on few positions). Fostering sharpens maps; it does not tell the network which region is right. ",
        "abn" => "Retrained on the same biased images as an Attention Branch Network (abn-vgg: the features gated by the network's own attention map, " +
            "trained with the attention branch's loss and the perception branch's). Shown is CAM of the perception head. ",
        _ => $"Retrained with the marker on every class alike (the same share of marked images, {pct(markedShare)}), the marker carries no information. ",
    };

    private static TrainedModel Train(Dataset train, string checkpoint, Settings s, IKernels kernels, string architecture = "vgg", float fosterCam = 0f)
    {
        // No crops or flips: a flip would move the marker to another corner.
        var plan = new TrainingPlan
        {
            Architecture = architecture, FosterCam = fosterCam, Train = train, Validation = null, DataSpec = "shapes+marker", Epochs = s.Epochs, Seed = s.Seed, Output = checkpoint,
            BatchSize = 16, Optimizer = "adam", LearningRate = 3e-3f, Schedule = "cosine", Augment = false,
        };
        return new TrainingSession(plan, kernels).Run();
    }

    /// <summary>Accuracy; the mean share of CAM mass on the marker over the marked images (0 when none is marked); the pointing game on the shape box.</summary>
    public static BiasScores Score(TrainedModel model, MarkedShapesDataset data, IKernels kernels)
    {
        const int batchSize = 50;
        var loader = new DataLoader(data, batchSize, DataLoaderOptions.Evaluation with { Mean = model.Metadata.Mean, Std = model.Metadata.Std });
        var explainer = new CamExplainer(new ModuleExplainable(model.Network, model.Metadata.Classes), kernels) { PassMemoryBudget = Evaluation.PassMemoryBudget };
        int correct = 0, hits = 0, marked = 0;
        double mass = 0;
        double tolerance = PointingGame.ScaledTolerance(data.Height, data.Width);
        var marker = MarkedShapesDataset.MarkerBox;
        for (int b = 0; b < loader.BatchCount; b++)
        {
            var batch = loader.GetBatch(0, b);
            var result = explainer.Explain(new Cam(), batch.Images, CamTarget.TopPrediction());
            for (int i = 0; i < batch.Count; i++)
            {
                int index = batch.Indices[i];
                if (result.Capture.TargetClasses[i] == data.GetLabel(index)) correct++;
                if (data.GetBox(index) is { } box && PointingGame.IsHit(result.NormalizedOf(i), data.Height, data.Width, Evaluation.ToExclusive(box), tolerance)) hits++;
                if (!data.IsMarked(index)) continue;
                marked++;
                mass += MassInside(result.UpsampledOf(i), data.Width, marker);
            }
        }
        return new BiasScores((double)correct / data.Count, marked == 0 ? 0 : mass / marked, (double)hits / data.Count, data.Count);
    }

    /// <summary>Σ_{(x,y) ∈ box} ReLU(M)(x,y) / Σ_{x,y} ReLU(M)(x,y) for a map of the given width (0 for a map with no positive value).</summary>
    public static double MassInside(ReadOnlySpan<float> map, int width, Data.Box inclusive)
    {
        double inside = 0, total = 0;
        for (int p = 0; p < map.Length; p++)
        {
            double v = Math.Max(0, map[p]);
            total += v;
            int x = p % width, y = p / width;
            if (x >= inclusive.X0 && x <= inclusive.X1 && y >= inclusive.Y0 && y <= inclusive.Y1) inside += v;
        }
        return total > 0 ? inside / total : 0;
    }

    private static List<DemoExample> Render(TrainedModel model, Dataset data, int[] indices, IKernels kernels, string directory, string prefix)
    {
        var figures = new List<DemoExample>();
        if (indices.Length == 0) return figures;
        var picked = new PickedDataset(data, indices);
        var loader = new DataLoader(picked, indices.Length, DataLoaderOptions.Evaluation with { Mean = model.Metadata.Mean, Std = model.Metadata.Std });
        var batch = loader.GetBatch(0, 0);
        var explainer = new CamExplainer(new ModuleExplainable(model.Network, model.Metadata.Classes), kernels) { PassMemoryBudget = Evaluation.PassMemoryBudget };
        var result = explainer.Explain(new Cam(), batch.Images, CamTarget.TopPrediction());
        for (int i = 0; i < batch.Count; i++)
        {
            int index = indices[batch.Indices[i]], predicted = result.Capture.TargetClasses[i], truth = data.GetLabel(index);
            var truthBox = data.GetBox(index) is { } b ? Evaluation.ToExclusive(b) : (Explain.Metrics.Box?)null;
            var camBox = Localization.BoxFromMap(result.NormalizedOf(i), data.Height, data.Width);
            var overlay = CamRendering.Overlay(ImageInput.ToDisplay(batch.Images, i, model.Metadata), result.NormalizedOf(i).ToArray(),
                data.Width, data.Height, "jet", truth: truthBox, predicted: camBox, scale: 3);
            ImageCodec.SavePng(overlay, Path.Combine(directory, $"{prefix}-{index:D4}.png"));
            double markerShare = MassInside(result.UpsampledOf(i), data.Width, MarkedShapesDataset.MarkerBox);
            figures.Add(new DemoExample(overlay, $"#{index}: {model.Metadata.Classes[predicted]}{(predicted == truth ? "" : $" (true: {model.Metadata.Classes[truth]})")}, " +
                $"{(100 * markerShare).ToString("F0", CultureInfo.InvariantCulture)}% on the marker", truthBox is { } t ? t.IoU(camBox) : null));
        }
        return figures;
    }

    /// <summary>The listed examples of another data set, in order.</summary>
    private sealed class PickedDataset(Dataset inner, int[] indices) : Dataset
    {
        public override int Count => indices.Length;
        public override IReadOnlyList<string> ClassNames => inner.ClassNames;
        public override int Channels => inner.Channels;
        public override int Height => inner.Height;
        public override int Width => inner.Width;
        public override void GetImage(int index, Span<float> chw) => inner.GetImage(indices[index], chw);
        public override int GetLabel(int index) => inner.GetLabel(indices[index]);
        public override Data.Box? GetBox(int index) => inner.GetBox(indices[index]);
    }
}
