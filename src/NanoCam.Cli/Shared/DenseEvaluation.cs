using System.Text.Json;
using NanoCam.Data;
using NanoCam.Nn.Models;
using NanoCam.Nn.Modules;
using NanoCam.Nn.Training;

namespace NanoCam.Cli.Shared;

/// <summary>
/// How a dense network (seg-fcn, det-grid) does on a data set with object masks, by the figures training counts
/// (<see cref="DenseQuality"/>): the images whose predicted mask or best box has IoU ≥ 0.5 with the truth; for a
/// segmentation network also the per-class IoU over all pixels and its mean (mIoU), for a detector the mean IoU of the
/// best box and how often its class is right.
/// </summary>
public sealed class DenseEvaluationReport
{
    /// <summary>"segmentation" or "detection".</summary>
    public required string Task { get; init; }

    public required int Examples { get; init; }

    /// <summary>Images whose predicted mask of the true class (segmentation) or most confident box (detection) has IoU ≥ 0.5 with the truth.</summary>
    public required int Hits { get; init; }

    /// <summary>The mean over images of that IoU.</summary>
    public required double MeanIoU { get; init; }

    /// <summary>The output's class names: the shapes and background (segmentation), the shapes (detection).</summary>
    public required IReadOnlyList<string> ClassNames { get; init; }

    /// <summary>Segmentation: IoU_k = Σ intersection / Σ union over every pixel of the data set, per map (NaN for a class neither predicted nor present); null for a detector.</summary>
    public double[]? ClassIoU { get; init; }

    /// <summary>Detection: images whose most confident box has the true class; 0 for a segmentation network.</summary>
    public int ClassCorrect { get; init; }

    public double HitRate => Examples == 0 ? 0 : (double)Hits / Examples;

    /// <summary>The mean of <see cref="ClassIoU"/> over the classes present or predicted (FCN's mean IU); null for a detector.</summary>
    public double? MeanClassIoU => ClassIoU?.Where(double.IsFinite).DefaultIfEmpty(0).Average();

    public double ClassAccuracy => Examples == 0 ? 0 : (double)ClassCorrect / Examples;

    /// <summary>The human lines.</summary>
    public void Print()
    {
        if (Task == "segmentation")
        {
            Console.WriteLine($"images whose predicted mask of the true class has IoU ≥ 0.5: {100 * HitRate:F2}% ({Hits}/{Examples}); mean IoU per image {MeanIoU:F4}");
            Console.WriteLine($"mIoU {MeanClassIoU:F4} over the classes present or predicted; per class (all pixels of the data set):");
            for (int c = 0; c < ClassNames.Count; c++)
                Console.WriteLine($"  {ClassNames[c],-12} IoU {(double.IsFinite(ClassIoU![c]) ? ClassIoU[c].ToString("F4") : "— (neither present nor predicted)")}");
            return;
        }
        Console.WriteLine($"images whose most confident box has IoU ≥ 0.5: {100 * HitRate:F2}% ({Hits}/{Examples})");
        Console.WriteLine($"mean IoU of the most confident box {MeanIoU:F4}");
        Console.WriteLine($"class accuracy of the most confident box {100 * ClassAccuracy:F2}% ({ClassCorrect}/{Examples})");
    }

    /// <summary>The one-line JSON object (keys in README.md, "Dense models").</summary>
    public string Json()
    {
        var values = new Dictionary<string, object?>
        {
            ["task"] = Task,
            ["examples"] = Examples,
            ["hit_rate"] = HitRate,
            ["mean_iou"] = MeanIoU,
        };
        if (ClassIoU is not null)
        {
            values["miou"] = MeanClassIoU;
            values["class_iou"] = ClassNames.Select((name, c) => (name, c)).ToDictionary(x => x.name, x => double.IsFinite(ClassIoU[x.c]) ? (double?)ClassIoU[x.c] : null);
        }
        else values["class_accuracy"] = ClassAccuracy;
        return JsonSerializer.Serialize(values);
    }
}

/// <summary>Runs a dense network over a data set with masks (no gradients), batch by batch, keeping only the counts.</summary>
public static class DenseEvaluation
{
    /// <summary>Images per pass: the masks and outputs of a batch stay a few MB.</summary>
    public const int BatchSize = 32;

    public static DenseEvaluationReport Run(Module model, ModelMetadata metadata, Dataset data, IKernels kernels)
    {
        Evaluation.CheckImageSize(metadata, data);
        var masks = TrainingSession.MasksOf(data)
            ?? throw new ArgumentException($"a {metadata.Architecture} is evaluated against object masks; {data.Description} has none (the shapes data set has them: --data shapes)");
        var dense = (IDenseModel)model;
        model.MoveTo(kernels);
        int height = data.Height, width = data.Width, plane = height * width;
        var dims = dense.OutputDims(height, width);
        bool segmentation = dims.Length == 3;
        int maps = segmentation ? dims[0] : 0;
        var intersection = new long[maps];
        var union = new long[maps];
        var coverage = new float[plane];
        int hits = 0, classCorrect = 0;
        double iouSum = 0;
        var loader = new DataLoader(data, BatchSize, DataLoaderOptions.Evaluation with { Mean = metadata.Mean, Std = metadata.Std });
        var tape = new Autodiff.Tape(kernels) { GradEnabled = false };
        Tensor? staged = null;
        foreach (var batch in loader.Epoch(0))
        {
            tape.Reset();
            var output = model.Call(tape, kernels.Stage(batch.Images, ref staged)).ToArray();
            var labels = batch.Labels.ToArray();
            int per = output.Length / batch.Count;
            for (int b = 0; b < batch.Count; b++)
            {
                var image = output.AsSpan(b * per, per);
                int label = (int)labels[b];
                masks(batch.Indices[b], coverage);
                float iou;
                if (segmentation)
                {
                    iou = DenseQuality.MaskIoU(image, maps, label, coverage);
                    DenseQuality.AddClassOverlaps(image, maps, label, maps - 1, coverage, intersection, union);
                }
                else
                {
                    var truth = DenseQuality.BoxOf(coverage, height, width);
                    var (_, box, cls) = DenseQuality.BestBox(image, dims[0], dims[1]);
                    iou = truth is { } t ? box.IoU(t) : 0f;
                    if (cls == label) classCorrect++;
                }
                if (iou >= 0.5f) hits++;
                iouSum += iou;
            }
        }
        return new DenseEvaluationReport
        {
            Task = segmentation ? "segmentation" : "detection",
            Examples = data.Count,
            Hits = hits,
            MeanIoU = data.Count == 0 ? 0 : iouSum / data.Count,
            ClassNames = dense.OutputClassNames(metadata.Classes),
            ClassIoU = segmentation ? [.. intersection.Zip(union, (i, u) => u == 0 ? double.NaN : (double)i / u)] : null,
            ClassCorrect = classCorrect,
        };
    }
}
