using System.Diagnostics;
using NanoCam.Data;
using NanoCam.Explain;
using NanoCam.Explain.Methods;
using NanoCam.Explain.Metrics;
using NanoCam.Nn.Models;

namespace NanoCam.Cli.Shared;

/// <summary>The first images of a data set, normalized as the model expects, with their labels and (when known) boxes.</summary>
public sealed record EvaluationImages(float[] Values, int Count, int Channels, int Height, int Width, int[] Labels, Explain.Metrics.Box?[] Boxes)
{
    public int ImageSize => Channels * Height * Width;

    public bool HasBoxes => Boxes.Any(b => b is not null);

    /// <summary>Images first … first + count − 1, [count, C, H, W].</summary>
    public float[] Slice(int first, int count) => Values.AsSpan(first * ImageSize, count * ImageSize).ToArray();

    /// <summary>The first <paramref name="count"/> images of <paramref name="data"/> (all of them when it has fewer).</summary>
    public static EvaluationImages Load(Dataset data, ModelMetadata metadata, int count)
    {
        Evaluation.CheckImageSize(metadata, data);
        count = Math.Min(count, data.Count);
        if (count < 1) throw new ArgumentException($"{data.Description} has no images to explain");
        var loader = new DataLoader(data, Math.Min(count, 100), DataLoaderOptions.Evaluation with { Mean = metadata.Mean, Std = metadata.Std });
        int size = data.ImageSize;
        var values = new float[count * size];
        var labels = new int[count];
        var boxes = new Explain.Metrics.Box?[count];
        int loaded = 0;
        foreach (var batch in loader.Epoch(0))
        {
            var images = batch.Images.ToArray();
            for (int i = 0; i < batch.Count && loaded < count; i++, loaded++)
            {
                images.AsSpan(i * size, size).CopyTo(values.AsSpan(loaded * size, size));
                labels[loaded] = data.GetLabel(batch.Indices[i]);
                boxes[loaded] = data.GetBox(batch.Indices[i]) is { } box ? Evaluation.ToExclusive(box) : null;
            }
            if (loaded == count) break;
        }
        return new EvaluationImages(values, count, data.Channels, data.Height, data.Width, labels, boxes);
    }
}

/// <summary>One method's row of the table: every metric over the images, and the time it took to explain them.</summary>
public sealed record ExplanationScores(string Method, int Images, double DeletionAuc, double InsertionAuc, double AverageDrop,
    double IncreaseInConfidence, double? PointingGame, double? Localization, double MillisecondsPerImage);

/// <summary>
/// Runs one explanation method over images and scores its maps: deletion and insertion AUC (RISE), average drop and
/// increase in confidence (Grad-CAM++), the pointing game and CAM-paper localization accuracy (when boxes are known).
/// Every map explains the top prediction and is scored as the method returns it, min–max scaled to [0, 1]; the
/// input-resolution gradients of guided-backprop and guided-gradcam become a map as Σ_c |g_c| per pixel, min–max scaled.
/// </summary>
public static class ExplanationEvaluation
{
    public static ExplanationScores Evaluate(string method, CamExplainer explainer, IBatchClassifier classifier, EvaluationImages images,
        string layer, int steps, int batchSize)
    {
        int plane = images.Height * images.Width;
        double deletion = 0, insertion = 0;
        int pointingHits = 0, localizationHits = 0, boxed = 0;
        var pairs = new List<ConfidenceChange.Pair>();
        var clock = new Stopwatch();
        for (int first = 0; first < images.Count; first += batchSize)
        {
            int count = Math.Min(batchSize, images.Count - first);
            var batch = images.Slice(first, count);
            var input = Tensor.FromArray(batch, count, images.Channels, images.Height, images.Width);
            clock.Start();
            var (maps, classes) = Explain(method, explainer, input, layer);
            clock.Stop();
            pairs.AddRange(ConfidenceChange.Measure(classifier, batch, maps, classes, images.Channels, images.Height, images.Width));
            for (int i = 0; i < count; i++)
            {
                var image = batch.AsSpan(i * images.ImageSize, images.ImageSize).ToArray();
                var map = maps.AsSpan(i * plane, plane);
                var (deletionCurve, insertionCurve) = DeletionInsertion.Curves(classifier, image, images.Channels, images.Height, images.Width, map, classes[i], steps);
                deletion += deletionCurve.Auc;
                insertion += insertionCurve.Auc;
                if (images.Boxes[first + i] is not { } truth) continue;
                boxed++;
                if (PointingGame.IsHit(map, images.Height, images.Width, truth, PointingGame.ScaledTolerance(images.Height, images.Width))) pointingHits++;
                var box = Localization.BoxFromMap(map, images.Height, images.Width);
                if (Localization.IsHit(classes[i], images.Labels[first + i], box, truth)) localizationHits++;
            }
        }
        int n = images.Count;
        return new ExplanationScores(method, n, deletion / n, insertion / n, ConfidenceChange.AverageDrop(pairs), ConfidenceChange.IncreaseInConfidence(pairs),
            boxed > 0 ? 100.0 * pointingHits / boxed : null, boxed > 0 ? 100.0 * localizationHits / boxed : null,
            clock.Elapsed.TotalMilliseconds / n);
    }

    /// <summary>The maps [N, H, W] in [0, 1] of the top prediction of every image, and that class.</summary>
    private static (float[] Maps, int[] Classes) Explain(string method, CamExplainer explainer, Tensor input, string layer)
    {
        var target = CamTarget.TopPrediction();
        if (MethodList.IsInputSpace(method)) return InputSpaceMaps(InputAttributions.Create(method, layer), explainer, input, target);
        var result = explainer.Explain(CamMethods.Create(method), input, target, layer);
        return (result.Normalized, result.Capture.TargetClasses);
    }

    /// <summary>An input-space method's maps [N, H, W] (its <see cref="InputAttribution.MapOf"/>, min–max scaled to [0, 1]) and their classes.</summary>
    public static (float[] Maps, int[] Classes) InputSpaceMaps(InputAttribution method, CamExplainer explainer, Tensor input, CamTarget target)
    {
        var values = method.Explain(explainer, input, target);
        int plane = values.Height * values.Width;
        var maps = new float[values.Batch * plane];
        for (int n = 0; n < values.Batch; n++) MapOps.MinMaxNormalize(method.MapOf(values, n), maps.AsSpan(n * plane, plane));
        return (maps, values.TargetClasses);
    }
}
