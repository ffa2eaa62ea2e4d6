using System.Diagnostics;
using NanoCam.Data;
using NanoCam.Explain;
using NanoCam.Explain.Methods;
using NanoCam.Explain.Metrics;
using NanoCam.Nn.Models;
using NanoCam.Nn.Modules;

namespace NanoCam.Cli.Shared;

/// <summary>The first images of a data set, normalized as the model expects, with their labels and (when known) boxes.</summary>
public sealed record EvaluationImages(float[] Values, int Count, int Channels, int Height, int Width, int[] Labels, Explain.Metrics.Box?[] Boxes)
{
    public int ImageSize => Channels * Height * Width;

    public bool HasBoxes => Boxes.Any(b => b is not null);

    /// <summary>Images first … first + count − 1, [count, C, H, W].</summary>
    public float[] Slice(int first, int count) => Values.AsSpan(first * ImageSize, count * ImageSize).ToArray();

    /// <summary>
    /// The first <paramref name="count"/> images of <paramref name="source"/> (all of them when it has fewer), prepared as
    /// its model expects — a checkpoint's normalization or an imported model's preprocessing — with their labels (−1 when
    /// unknown) and boxes.
    /// </summary>
    public static EvaluationImages From(DatasetImages source, int count, int chunk = DefaultChunk)
    {
        count = Math.Min(count, source.Count);
        if (count < 1) throw new ArgumentException($"{source.Description} has no images to explain");
        int size = source.ImageSize;
        var values = new float[count * size];
        // Whole chunks, as the source reads them; the last one cut to the count.
        for (int first = 0; first < count; first += chunk)
        {
            var images = source.Load(first, Math.Min(chunk, source.Count - first));
            int take = Math.Min(chunk, count - first);
            images.AsSpan(0, take * size).CopyTo(values.AsSpan(first * size, take * size));
        }
        var labels = Enumerable.Range(0, count).Select(i => source.LabelOf(i) ?? -1).ToArray();
        var boxes = Enumerable.Range(0, count).Select(source.BoxOf).ToArray();
        return new EvaluationImages(values, count, source.Channels, source.Height, source.Width, labels, boxes);
    }

    /// <summary>Images read from their source at a time.</summary>
    public const int DefaultChunk = 100;
}

/// <summary>One method's row of the table: the scores of every metric family asked for (null: not asked), and the time it took to explain the images.</summary>
public sealed record ExplanationScores(string Method, int Images, double MillisecondsPerImage)
{
    public FaithfulnessScores? Faithfulness { get; init; }
    public LocalizationScores? Localization { get; init; }
    public RobustnessScores? Robustness { get; init; }
    public ComplexityScores? Complexity { get; init; }
    public SanityScores? Sanity { get; init; }
}

/// <summary>Means over the images: deletion / insertion AUC, average drop / increase in percent, and ROAD's MoRF / LeRF probability drops (per percentage and their mean).</summary>
public sealed record FaithfulnessScores(double DeletionAuc, double InsertionAuc, double AverageDrop, double IncreaseInConfidence,
    int[] RoadPercents, double[] RoadMostRelevantFirst, double[] RoadLeastRelevantFirst)
{
    public double RoadMostRelevantFirstMean => RoadMostRelevantFirst.Average();
    public double RoadLeastRelevantFirstMean => RoadLeastRelevantFirst.Average();
}

/// <summary>Pointing game and CAM-paper localization accuracy in percent over the images with boxes; null when none has one.</summary>
public sealed record LocalizationScores(double? PointingGame, double? Localization);

/// <summary>
/// Means over the images of max-sensitivity, average sensitivity (each null when every map was flat, so nothing to be
/// relative to; flat maps are left out of the mean) and the local Lipschitz estimate.
/// </summary>
public sealed record RobustnessScores(double? MaxSensitivity, double? AverageSensitivity, double LocalLipschitz);

/// <summary>Means over the images of the map's sparseness (Gini index) and entropy (nats).</summary>
public sealed record ComplexityScores(double Sparseness, double Entropy);

/// <summary>The randomization cascade: a step per re-initialised layer, last layer first, with Spearman's ρ per image.</summary>
public sealed record SanityScores(IReadOnlyList<ModelRandomization.Step> Cascade)
{
    /// <summary>Mean ρ with every layer re-initialised.</summary>
    public double FullRandomization => Cascade[^1].Mean;

    /// <summary>(1/L) Σ_steps |mean ρ| over the cascade.</summary>
    public double CascadeMean => ModelRandomization.CascadeMean(Cascade);

    /// <summary>Whether the cascade mean exceeds <see cref="ModelRandomization.FailThreshold"/>.</summary>
    public bool Fails => ModelRandomization.Fails(Cascade);
}

/// <summary>
/// What <see cref="ExplanationEvaluation.Evaluate"/> measures and how: the metric families, deletion / insertion steps,
/// images per call, the robustness noise (radius in the model's input units, samples per image), the ROAD percentages,
/// and for sanity the trained network and a way to build a freshly initialised one of its architecture.
/// </summary>
public sealed record EvaluationSettings(MetricList Metrics, int Steps, int BatchSize, float NoiseRadius = 0.1f, int NoiseSamples = 8)
{
    public IReadOnlyList<int> RoadPercents { get; init; } = Road.DefaultPercents;
    public GapCnn? Trained { get; init; }
    public Func<GapCnn>? FreshModel { get; init; }
    /// <summary>The input-space methods' settings (the LRP rule, FG-CAM's base); null: their defaults.</summary>
    public InputAttributionSettings? Attribution { get; init; }
    /// <summary>What every map explains (<c>--target</c>); null: each image's top prediction.</summary>
    public CamTarget? Target { get; init; }
}

/// <summary>
/// Runs one explanation method over images and scores its maps by the metric families asked for: faithfulness
/// (deletion and insertion AUC of RISE, average drop and increase in confidence of Grad-CAM++, ROAD), robustness
/// (max / average sensitivity, local Lipschitz estimate), complexity (sparseness, entropy), localization (pointing
/// game, CAM-paper boxes, when boxes are known) and sanity (the cascading model-parameter randomization).
/// Every map explains the top prediction (or the settings' <c>--target</c>) and is scored as the method returns it, min–max scaled to [0, 1]; the
/// input-resolution gradients of guided-backprop and guided-gradcam become a map as Σ_c |g_c| per pixel, min–max scaled.
/// Perturbed and randomised inputs are explained for the class of the original map. The noise is drawn from fixed
/// seeds, the same for every method.
/// </summary>
public static class ExplanationEvaluation
{
    public static ExplanationScores Evaluate(string method, CamExplainer explainer, IBatchClassifier classifier, EvaluationImages images,
        string layer, EvaluationSettings settings)
    {
        var metrics = settings.Metrics;
        int plane = images.Height * images.Width, n = images.Count;
        double deletion = 0, insertion = 0, sparseness = 0, entropy = 0, lipschitz = 0;
        var sensitivities = new List<(double Max, double Average)>();
        var roadMost = new double[settings.RoadPercents.Count];
        var roadLeast = new double[settings.RoadPercents.Count];
        int pointingHits = 0, localizationHits = 0, boxed = 0;
        var pairs = new List<ConfidenceChange.Pair>();
        var allMaps = new float[n * plane];
        var allClasses = new int[n];
        var noise = new Random(1);
        var imputationNoise = new Random(2);
        var clock = new Stopwatch();
        for (int first = 0; first < n; first += settings.BatchSize)
        {
            int count = Math.Min(settings.BatchSize, n - first);
            var batch = images.Slice(first, count);
            var input = Tensor.FromArray(batch, count, images.Channels, images.Height, images.Width);
            clock.Start();
            var (maps, classes) = Explain(method, explainer, input, settings.Target ?? CamTarget.TopPrediction(), layer, settings.Attribution);
            clock.Stop();
            maps.CopyTo(allMaps, first * plane);
            classes.CopyTo(allClasses, first);
            if (metrics.Faithfulness)
                pairs.AddRange(ConfidenceChange.Measure(classifier, batch, maps, classes, images.Channels, images.Height, images.Width));
            for (int i = 0; i < count; i++)
            {
                var image = batch.AsSpan(i * images.ImageSize, images.ImageSize).ToArray();
                var map = maps.AsSpan(i * plane, plane);
                if (metrics.Faithfulness)
                {
                    var (deletionCurve, insertionCurve) = DeletionInsertion.Curves(classifier, image, images.Channels, images.Height, images.Width, map, classes[i], settings.Steps);
                    deletion += deletionCurve.Auc;
                    insertion += insertionCurve.Auc;
                    var road = Road.Measure(classifier, image, images.Channels, images.Height, images.Width, map, classes[i], settings.RoadPercents, imputationNoise);
                    for (int q = 0; q < roadMost.Length; q++) { roadMost[q] += road.MostRelevantFirst[q]; roadLeast[q] += road.LeastRelevantFirst[q]; }
                }
                if (metrics.Complexity)
                {
                    sparseness += Complexity.Sparseness(map);
                    entropy += Complexity.Entropy(map);
                }
                if (metrics.Robustness)
                {
                    var scores = Robustness.Measure((copies, samples, targets) => Explain(method, explainer,
                            Tensor.FromArray(copies, samples, images.Channels, images.Height, images.Width), settings.Target is { IsClassScore: false } t ? t : CamTarget.PerImage(targets), layer, settings.Attribution).Maps,
                        image, map, classes[i], images.Channels, images.Height, images.Width, settings.NoiseRadius, settings.NoiseSamples, noise);
                    if (double.IsFinite(scores.MaxSensitivity)) sensitivities.Add((scores.MaxSensitivity, scores.AverageSensitivity));
                    lipschitz += scores.LocalLipschitz;
                }
                if (!metrics.Localization || images.Boxes[first + i] is not { } truth) continue;
                boxed++;
                if (PointingGame.IsHit(map, images.Height, images.Width, truth, PointingGame.ScaledTolerance(images.Height, images.Width))) pointingHits++;
                var box = Localization.BoxFromMap(map, images.Height, images.Width);
                if (Localization.IsHit(classes[i], images.Labels[first + i], box, truth)) localizationHits++;
            }
        }
        return new ExplanationScores(method, n, clock.Elapsed.TotalMilliseconds / n)
        {
            Faithfulness = metrics.Faithfulness
                ? new FaithfulnessScores(deletion / n, insertion / n, ConfidenceChange.AverageDrop(pairs), ConfidenceChange.IncreaseInConfidence(pairs),
                    [.. settings.RoadPercents], [.. roadMost.Select(v => v / n)], [.. roadLeast.Select(v => v / n)])
                : null,
            Localization = metrics.Localization
                ? new LocalizationScores(boxed > 0 ? 100.0 * pointingHits / boxed : null, boxed > 0 ? 100.0 * localizationHits / boxed : null)
                : null,
            Robustness = metrics.Robustness
                ? new RobustnessScores(sensitivities.Count > 0 ? sensitivities.Average(s => s.Max) : null,
                    sensitivities.Count > 0 ? sensitivities.Average(s => s.Average) : null, lipschitz / n)
                : null,
            Complexity = metrics.Complexity ? new ComplexityScores(sparseness / n, entropy / n) : null,
            Sanity = metrics.Sanity ? Sanity(method, explainer, images, layer, settings, allMaps, allClasses) : null,
        };
    }

    /// <summary>The randomization cascade on a copy of the trained network, each image explained for its original class.</summary>
    private static SanityScores Sanity(string method, CamExplainer explainer, EvaluationImages images, string layer, EvaluationSettings settings,
        float[] originalMaps, int[] classes)
    {
        if (settings.Trained is not { } trained || settings.FreshModel is not { } fresh)
            throw new InvalidOperationException("the sanity metric needs the trained network and its architecture");
        var cascade = ModelRandomization.Cascade(trained, fresh, copy =>
        {
            var randomised = new CamExplainer(new ModuleExplainable(copy, explainer.Model.ClassNames), explainer.Kernels) { PassMemoryBudget = explainer.PassMemoryBudget };
            var maps = new float[originalMaps.Length];
            int plane = images.Height * images.Width;
            for (int first = 0; first < images.Count; first += settings.BatchSize)
            {
                int count = Math.Min(settings.BatchSize, images.Count - first);
                var input = Tensor.FromArray(images.Slice(first, count), count, images.Channels, images.Height, images.Width);
                Explain(method, randomised, input, CamTarget.PerImage(classes[first..(first + count)]), layer, settings.Attribution).Maps.CopyTo(maps, first * plane);
            }
            return maps;
        }, originalMaps, images.Height * images.Width);
        return new SanityScores(cascade);
    }

    /// <summary>The maps [N, H, W] in [0, 1] of <paramref name="target"/> for every image, and the classes they explain.</summary>
    private static (float[] Maps, int[] Classes) Explain(string method, CamExplainer explainer, Tensor input, CamTarget target, string layer,
        InputAttributionSettings? attribution)
    {
        if (MethodList.IsInputSpace(method)) return InputSpaceMaps(InputAttributions.Create(method, layer, attribution), explainer, input, target);
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
