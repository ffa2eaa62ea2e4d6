using NanoCam.Explain;
using NanoCam.Explain.Methods;
using NanoCam.Cli.Commands;
using NanoCam.Explain.Metrics;

namespace NanoCam.Cli.Shared;

/// <summary>Maps [rows, H, W] per method (rows image-major, then target) and one table row per (image, method, target) of a chunk.</summary>
public sealed record ChunkResult(IReadOnlyDictionary<string, float[]> Maps, IReadOnlyList<ChunkRow> Rows);

/// <summary>A row of a chunk before it gets its file names: image i of the chunk, the method, target t, the class explained and its score.</summary>
public sealed record ChunkRow(int Image, string Method, int Target, int Class, float Score, float Probability, ExplanationMetrics? Metrics);

/// <summary>The metrics of evaluate-explanations for one map: deletion / insertion AUC, confidence drop and increase, pointing game, localization.</summary>
public sealed record ExplanationMetrics(double DeletionAuc, double InsertionAuc, double DropPercent, bool Increase, bool? PointingHit, bool? LocalizationHit);

/// <summary>
/// Explains a chunk of images with several methods in as few passes as possible: per target, the methods that read the
/// layer capture (every CAM-family method but FullGrad) share one forward and backward pass — one for Grad-CAM, Grad-CAM++,
/// LayerCAM, Score-CAM, … together, one more for the counterfactual sign; the masked-input methods run their masked
/// batches on that capture. Guided methods and FullGrad make their own pass.
/// </summary>
public sealed class ChunkExplainer
{
    private readonly CamExplainer _explainer;
    private readonly (string Name, CamMethod? Method)[] _methods;
    private readonly string[] _methodLayers;
    private readonly TargetSpec _targets;
    private readonly string _layer;
    private readonly int? _metricSteps;
    private readonly InputAttributionSettings? _attribution;
    private readonly CamTarget? _target;

    /// <summary>
    /// Explains with <paramref name="methods"/> at <paramref name="layer"/>, for the class targets of <paramref name="targets"/>
    /// or, when given, for <paramref name="target"/> (<c>--target</c>: one scalar of the output, the same for every image).
    /// </summary>
    /// <param name="attribution">the input-space methods' settings (LRP rule, FG-CAM base); null: their defaults</param>
    /// <param name="layerGiven">
    /// whether the user named <paramref name="layer"/>; when not, a CAM method with a layer of its own (abn-attention: the
    /// attention map) explains that layer
    /// </param>
    public ChunkExplainer(CamExplainer explainer, IReadOnlyList<string> methods, TargetSpec targets, string layer, int? metricSteps,
        CamTarget? target = null, InputAttributionSettings? attribution = null, bool layerGiven = true)
    {
        if (target is { IsClassScore: false } && metricSteps is not null)
            throw new ArgumentException($"--metrics: the metrics measure a class's score, and --target {target} is not one");
        _target = target;
        _explainer = explainer;
        _attribution = attribution;
        _methods = [.. methods.Select(m => (m, MethodList.IsInputSpace(m) ? null : CamMethods.Create(m)))];
        (_targets, _layer, _metricSteps) = (targets, layer, metricSteps);
        _methodLayers = [.. _methods.Select(m => m.Method is { } cam && !layerGiven && cam.DefaultLayer(explainer.Model) is { } own ? own : layer)];
        // A method that cannot run on this network or layer is refused before any chunk is written.
        for (int m = 0; m < _methods.Length; m++)
            if (_methods[m].Method?.WhyNotApplicable(explainer.Model, _methodLayers[m]) is { } reason)
                throw new ArgumentException($"{_methods[m].Name}: {reason}");
    }

    /// <summary>The target column's value for target t of an image (see <see cref="TargetSpec.Label"/>).</summary>
    public string TargetLabel(int t) => _target?.ToString() ?? _targets.Label(t);

    /// <summary>Explains images [count, C, H, W] with labels (for --targets true) and boxes (for the pointing game and localization).</summary>
    public ChunkResult Explain(float[] images, int count, int channels, int height, int width, IReadOnlyList<int?> labels, IReadOnlyList<Box?> boxes)
    {
        int plane = height * width, perImage = _target is null ? _targets.PerImage : 1, classes = _explainer.Model.Classes;
        var input = Tensor.FromArray(images, count, channels, height, width);
        var maps = _methods.ToDictionary(m => m.Name, _ => new float[count * perImage * plane]);
        var rows = new ChunkRow?[count * _methods.Length * perImage];
        float[]? scores = null;
        var classifier = _metricSteps is null ? null : new ModelClassifier(_explainer, channels, height, width);
        for (int t = 0; t < perImage; t++)
        {
            var target = TargetFor(t, labels, classes);
            var captures = new Dictionary<(string, float), LayerCapture>();
            for (int m = 0; m < _methods.Length; m++)
            {
                var (name, method) = _methods[m];
                float[] methodMaps;
                int[] targetClasses;
                if (method is null)
                {
                    (methodMaps, targetClasses) = ExplanationEvaluation.InputSpaceMaps(InputAttributions.Create(name, _layer, _attribution), _explainer, input, target);
                }
                else
                {
                    CamResult result;
                    string layer = _methodLayers[m];
                    if (method.ReadsLayerCapture)
                    {
                        if (!captures.TryGetValue((layer, method.GradientSign), out var capture))
                            captures[(layer, method.GradientSign)] = capture = _explainer.Capture(input, layer, target, withGradients: true, method.GradientSign);
                        result = _explainer.Explain(method, input, capture, target);
                    }
                    else result = _explainer.Explain(method, input, target, layer);
                    (methodMaps, targetClasses) = (result.Normalized, result.Capture.TargetClasses);
                    scores ??= result.Capture.Scores;
                }
                scores ??= _explainer.ScoresOf(input);
                var metrics = classifier is null ? null : Measure(classifier, images, methodMaps, targetClasses, channels, height, width, labels, boxes);
                var all = maps[name];
                for (int i = 0; i < count; i++)
                {
                    methodMaps.AsSpan(i * plane, plane).CopyTo(all.AsSpan((i * perImage + t) * plane, plane));
                    var row = scores.AsSpan(i * classes, classes);
                    int cls = targetClasses[i];
                    rows[(i * _methods.Length + m) * perImage + t] = new ChunkRow(i, name, t, cls, row[cls], MapOps.SoftmaxAt(row, cls), metrics?[i]);
                }
            }
        }
        return new ChunkResult(maps, [.. rows.Select(r => r!)]);
    }

    private CamTarget TargetFor(int t, IReadOnlyList<int?> labels, int classes) => _target ?? _targets.What switch
    {
        TargetSpec.Kind.Predicted => CamTarget.TopPrediction(),
        TargetSpec.Kind.TopK => CamTarget.TopPrediction(t),
        TargetSpec.Kind.Class => CamTarget.Class(_targets.Value),
        _ => CamTarget.PerImage([.. labels.Select((label, i) => label is { } l && l >= 0 && l < classes ? l
            : throw new ArgumentException(label is null
                ? "--targets true needs labels, and these images have none (a folder labels its images with one sub-folder per class)"
                : $"--targets true: image {i} has label {label}, and the model has {classes} classes"))]),
    };

    private ExplanationMetrics[] Measure(ModelClassifier classifier, float[] images, float[] maps, int[] classes, int channels, int height, int width,
        IReadOnlyList<int?> labels, IReadOnlyList<Box?> boxes)
    {
        int count = classes.Length, plane = height * width, size = channels * plane;
        var pairs = ConfidenceChange.Measure(classifier, images, maps, classes, channels, height, width);
        var metrics = new ExplanationMetrics[count];
        double tolerance = PointingGame.ScaledTolerance(height, width);
        for (int i = 0; i < count; i++)
        {
            var map = maps.AsSpan(i * plane, plane);
            var (deletion, insertion) = DeletionInsertion.Curves(classifier, images.AsSpan(i * size, size).ToArray(), channels, height, width, map, classes[i], _metricSteps!.Value);
            bool? pointing = null, localization = null;
            if (boxes[i] is { } truth)
            {
                pointing = PointingGame.IsHit(map, height, width, truth, tolerance);
                localization = labels[i] is { } label && Localization.IsHit(classes[i], label, Localization.BoxFromMap(map, height, width), truth);
            }
            var (full, explained) = (pairs[i].Full, pairs[i].Explained);
            metrics[i] = new ExplanationMetrics(deletion.Auc, insertion.Auc, Math.Max(0.0, full - (double)explained) / full * 100, explained > full, pointing, localization);
        }
        return metrics;
    }
}
