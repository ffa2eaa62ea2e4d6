using NanoCam.Data;
using NanoCam.Explain;
using NanoCam.Explain.Methods;
using NanoCam.Explain.Metrics;
using NanoCam.Nn.Models;
using NanoCam.Nn.Training;

namespace NanoCam.Cli.Shared;

/// <summary>Accuracy, per-class accuracy, confusion matrix and (when boxes are known) CAM localization accuracy.</summary>
public sealed class EvaluationReport
{
    public required int Examples { get; init; }
    public required int Correct { get; init; }
    /// <summary>confusion[true, predicted].</summary>
    public required int[,] Confusion { get; init; }
    public required IReadOnlyList<string> ClassNames { get; init; }
    public int? LocalizationHits { get; init; }
    public int? LocalizationExamples { get; init; }
    /// <summary>The method whose maps gave the localization boxes (CAM, or Grad-CAM for a model without a CAM head); null without localization.</summary>
    public string? LocalizationMethod { get; init; }
    /// <summary>For an Attention Branch Network, how many images its attention branch (GAP of the class maps) got right; null otherwise.</summary>
    public int? AttentionBranchCorrect { get; init; }
    public double? AttentionBranchAccuracy => AttentionBranchCorrect is { } right && Examples > 0 ? (double)right / Examples : null;

    /// <summary>K of the top-K figures (1: none beyond top-1).</summary>
    public int TopK { get; init; } = 1;

    /// <summary>Images whose true class is among the K best scores.</summary>
    public int TopKCorrect { get; init; }

    /// <summary>
    /// Top-K localization hits (CAM paper, Sec. 3.1: the K best classes, a box each from its CAM; right when the true
    /// class is among them and its box has IoU ≥ 0.5 with the true box); null without localization.
    /// </summary>
    public int? TopKLocalizationHits { get; init; }

    public double Accuracy => Examples == 0 ? 0 : (double)Correct / Examples;
    public double? LocalizationAccuracy => LocalizationHits is { } hits && LocalizationExamples is > 0 ? (double)hits / LocalizationExamples.Value : null;
    public double TopKAccuracy => Examples == 0 ? 0 : (double)TopKCorrect / Examples;
    public double? TopKLocalizationAccuracy => TopKLocalizationHits is { } hits && LocalizationExamples is > 0 ? (double)hits / LocalizationExamples.Value : null;

    public double ClassAccuracy(int c)
    {
        int total = 0;
        for (int p = 0; p < ClassNames.Count; p++) total += Confusion[c, p];
        return total == 0 ? 0 : (double)Confusion[c, c] / total;
    }
}

/// <summary>
/// Runs a trained GAP-CNN over a dataset in batches (no gradients recorded), streaming: each batch is generated, scored
/// and dropped, and only the counts are kept. A batch is as many images as one pass takes within
/// <see cref="PassMemoryBudget"/> (<see cref="CamExplainer.ImagesPerPass(int, int, int, bool)"/>), so memory does not
/// grow with the data set.
/// </summary>
public static class Evaluation
{
    /// <summary>
    /// The <see cref="CamExplainer.PassMemoryBudget"/> of the commands that stream a data set through the model (eval,
    /// evaluate-explanations, the demo's evaluation), 32 MiB: with the tapes' spare buffers and the collector's slack
    /// they stay within a few hundred MB (benchmarks/README.md, "Memory").
    /// </summary>
    public const long PassMemoryBudget = 32L << 20;

    /// <param name="batchSize">Images per pass; by default as many as fit <see cref="PassMemoryBudget"/>.</param>
    /// <param name="topK">K of the top-K accuracy and localization (1: top-1 only).</param>
    public static EvaluationReport Run(GapCnn model, ModelMetadata metadata, Dataset data, IKernels kernels, bool localization, int? batchSize = null, int topK = 1)
    {
        CheckImageSize(metadata, data);
        model.MoveTo(kernels);
        var evaluated = new EvaluatedModel(new ModuleExplainable(model), metadata.Classes, metadata.Mean, metadata.Std, metadata.InputChannels)
        {
            AttentionBranch = model as AttentionBranchNetwork,
        };
        return Run(evaluated, data, kernels, localization, batchSize, topK);
    }

    /// <summary>
    /// Evaluates any explainable classifier (a NanoCam network or an imported graph): the data normalized with the
    /// model's mean and std, one-channel images replicated when the model takes three, localization with CAM when the
    /// model has a CAM head (GAP or GMP → FC) and else with Grad-CAM at its default layer.
    /// </summary>
    /// <param name="batchSize">Images per pass; by default as many as fit <see cref="PassMemoryBudget"/>.</param>
    /// <param name="topK">K of the top-K accuracy and localization (1: top-1 only).</param>
    public static EvaluationReport Run(EvaluatedModel model, Dataset data, IKernels kernels, bool localization, int? batchSize = null, int topK = 1)
    {
        int classes = model.ClassNames.Count;
        if (topK < 1 || topK > classes) throw new ArgumentException($"--topk must be in 1…{classes} (the model has {classes} classes), got {topK}");
        var explainer = new CamExplainer(model.Explainable, kernels) { PassMemoryBudget = PassMemoryBudget };
        int images = batchSize ?? explainer.ImagesPerPass(model.InputChannels, data.Height, data.Width, withGradients: false);
        var loader = new DataLoader(data, images, DataLoaderOptions.Evaluation with { Mean = model.Mean, Std = model.Std });
        var confusion = new int[classes, classes];
        int correct = 0, hits = 0, boxed = 0, topKCorrect = 0, topKHits = 0, attentionCorrect = 0;
        var attentionBranch = model.AttentionBranch;
        // The CAM paper's maps need its head; a graph without one is localized with Grad-CAM (its generalisation to any layer).
        CamMethod method = model.Explainable.CamHead is null ? new GradCam() : new Cam();
        foreach (var batch in loader.Epoch(0))
        {
            var input = Replicate(batch.Images, model.InputChannels);
            // With localization one pass gives both: the CAM of the predicted class (CAM paper, Sec. 3.1) and the scores.
            var result = localization ? explainer.Explain(method, input, CamTarget.TopPrediction()) : null;
            var scores = result?.Capture.Scores ?? explainer.ScoresOf(input);
            var labels = batch.Labels.ToArray();
            var predicted = new int[batch.Count];
            for (int i = 0; i < batch.Count; i++)
            {
                predicted[i] = Metrics.ArgMax(scores.AsSpan(i * classes, classes));
                int truth = (int)labels[i];
                if (truth >= classes) throw new ArgumentException($"example {batch.Indices[i]} has label {truth} but the model knows {classes} classes");
                confusion[truth, predicted[i]]++;
                if (predicted[i] == truth) correct++;
                if (InTopK(scores.AsSpan(i * classes, classes), truth, topK)) topKCorrect++;
            }
            if (attentionBranch is not null)
            {
                var tape = new Autodiff.Tape(kernels) { GradEnabled = false };
                var attentionScores = attentionBranch.Branches(tape, kernels.Stage(input)).AttentionScores.ToArray();
                for (int i = 0; i < batch.Count; i++)
                    if (Metrics.ArgMax(attentionScores.AsSpan(i * classes, classes)) == (int)labels[i]) attentionCorrect++;
            }
            if (result is null) continue;
            // Top-K: among the K best classes only the true one can be right, so its CAM's box is the one that counts.
            CamResult? truthMaps = topK > 1 ? explainer.Explain(method, input, CamTarget.PerImage([.. labels.Select(l => (int)l)])) : null;
            // The box of the largest component above 20% of the map's maximum.
            for (int i = 0; i < batch.Count; i++)
            {
                if (data.GetBox(batch.Indices[i]) is not { } truthBox) continue;
                boxed++;
                var box = Localization.BoxFromMap(result.NormalizedOf(i), data.Height, data.Width);
                if (Localization.IsHit(predicted[i], (int)labels[i], box, ToExclusive(truthBox))) hits++;
                if (truthMaps is null) continue;
                int label = (int)labels[i];
                if (InTopK(scores.AsSpan(i * classes, classes), label, topK)
                    && Localization.IsHit(label, label, Localization.BoxFromMap(truthMaps.NormalizedOf(i), data.Height, data.Width), ToExclusive(truthBox))) topKHits++;
            }
        }
        if (localization && boxed == 0) throw new ArgumentException($"--localization needs ground-truth boxes, and {data.Description} has none (the embedded 'shapes' data set and idx:DIR data have them)");
        return new EvaluationReport
        {
            Examples = data.Count, Correct = correct, Confusion = confusion, ClassNames = model.ClassNames,
            LocalizationHits = localization ? hits : null, LocalizationExamples = localization ? boxed : null,
            LocalizationMethod = localization ? method.Name : null,
            TopK = topK, TopKCorrect = topKCorrect, TopKLocalizationHits = localization ? (topK > 1 ? topKHits : hits) : null,
            AttentionBranchCorrect = attentionBranch is null ? null : attentionCorrect,
        };
    }

    /// <summary>A batch [N, 1, H, W] as [N, <paramref name="channels"/>, H, W], gray copied to every channel (as the graph trainer feeds it); else unchanged.</summary>
    public static Tensor Replicate(Tensor images, int channels)
    {
        if (images.Shape[1] == channels) return images;
        if (images.Shape[1] != 1) throw new ArgumentException($"the data's images have {images.Shape[1]} channels but the model takes {channels}");
        int n = images.Shape[0], plane = images.Shape[2] * images.Shape[3];
        var source = images.ToArray();
        var replicated = new float[n * channels * plane];
        for (int i = 0; i < n; i++)
            for (int c = 0; c < channels; c++)
                source.AsSpan(i * plane, plane).CopyTo(replicated.AsSpan((i * channels + c) * plane, plane));
        return Tensor.FromArray(replicated, n, channels, images.Shape[2], images.Shape[3]);
    }

    /// <summary>Whether <paramref name="label"/> is among the <paramref name="k"/> best scores (ties: the lower index first, as argmax).</summary>
    public static bool InTopK(ReadOnlySpan<float> scores, int label, int k)
    {
        int better = 0;
        for (int c = 0; c < scores.Length; c++)
            if (scores[c] > scores[label] || scores[c] == scores[label] && c < label) better++;
        return better < k;
    }

    /// <summary>The data's images must have the size the model was trained on.</summary>
    public static void CheckImageSize(ModelMetadata metadata, Dataset data)
    {
        if (data.Channels != metadata.InputChannels || data.Height != metadata.InputHeight || data.Width != metadata.InputWidth)
            throw new ArgumentException($"the data's images are {data.Channels}×{data.Height}×{data.Width} but the model expects {metadata.InputChannels}×{metadata.InputHeight}×{metadata.InputWidth}");
    }

    /// <summary>Data boxes have inclusive corners; metric boxes are half-open.</summary>
    public static Explain.Metrics.Box ToExclusive(Data.Box b) => new(b.X0, b.Y0, b.X1 + 1, b.Y1 + 1);
}

/// <summary>
/// What <see cref="Evaluation"/> runs: the explainable model, its class names, the normalization its input gets (one
/// value per data channel), and the channels it takes (one-channel data is replicated to three).
/// </summary>
public sealed record EvaluatedModel(IExplainable Explainable, IReadOnlyList<string> ClassNames, float[] Mean, float[] Std, int InputChannels)
{
    /// <summary>For a NanoCam Attention Branch Network, the network, whose attention branch is scored too; null otherwise.</summary>
    public AttentionBranchNetwork? AttentionBranch { get; init; }
}
