using NanoCam.Autodiff;
using NanoCam.Cli.Shared;
using NanoCam.Explain;
using NanoCam.Explain.Methods;
using NanoCam.Imaging;

namespace NanoCam.Cli.Serve;

/// <summary>A request the server refuses: the HTTP status (4xx) and one line for the JSON error.</summary>
public sealed class RequestException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}

/// <summary>
/// What <c>nanocam serve</c> computes: the model's description, the top-5 of an image, and one explanation (overlay,
/// normalized map, raw map and, for CAM and Grad-CAM, the channel weights and the score rebuilt from them). Images are
/// checked (header, pixel limit) and decoded outside the lock; the model runs under one lock, as its tapes and the
/// explainer's state are not safe to share between threads.
/// </summary>
public sealed class ExplainService
{
    private readonly LoadedModel _model;
    private readonly CamExplainer _explainer;
    private readonly ColorMap _colors;
    private readonly object _modelLock = new();

    public ExplainService(LoadedModel model, IKernels kernels, string modelName, long maxPixels, string colormap = "jet")
    {
        _model = model;
        _explainer = new CamExplainer(model.Explainable, kernels);
        _colors = ColorMaps.Get(colormap);
        MaxPixels = maxPixels;
        Description = Describe(modelName);
    }

    /// <summary>The most pixels (width × height, from the header) an image may have.</summary>
    public long MaxPixels { get; }

    /// <summary>GET /api/model: name, classes, labels, methods, layers with shapes, the default layer.</summary>
    public ModelDescription Description { get; }

    private IReadOnlyList<string> Layers => Description.Layers.Select(l => l.Name).ToArray();

    /// <summary>The methods the page offers: every CAM-family method (the guided ones give gradients, not a map).</summary>
    public static IReadOnlyList<string> Methods => CamMethods.Names;

    private ModelDescription Describe(string modelName)
    {
        var explainable = _model.Explainable;
        var layers = new List<LayerDescription>();
        lock (_modelLock)
        {
            // One forward pass on zeros publishes every named tensor; the 4-D ones are what a CAM can target.
            var tape = new Tape(_explainer.Kernels) { GradEnabled = false };
            explainable.Scores(tape, Tensor.Zeros([.. _model.InputShape.Select(d => Math.Max(d, 1))]));
            foreach (var (name, tensor) in tape.Named)
                if (tensor.Shape.Rank == 4 && tensor.Shape[2] * tensor.Shape[3] > 1)
                    layers.Add(new LayerDescription(name, tensor.Shape.ToArray()[1..]));
        }
        string defaultLayer = explainable.ResolveLayer(explainable.DefaultLayer);
        if (!layers.Any(l => l.Name == defaultLayer) && layers.Count > 0) defaultLayer = layers[^1].Name;
        return new ModelDescription(modelName, explainable.Classes, explainable.ClassNames, Methods, layers, defaultLayer,
            [.. _model.InputShape.Skip(1)], explainable.CamHead?.FeatureLayer);
    }

    /// <summary>Decodes an uploaded or folder image after checking its header against <see cref="MaxPixels"/>.</summary>
    public RgbImage Decode(byte[] bytes) => DecodeChecked(bytes, MaxPixels);

    /// <summary>Decodes an image after checking its header: 415 for an unknown format, 413 over <paramref name="maxPixels"/> (nothing allocated), 422 for broken data.</summary>
    public static RgbImage DecodeChecked(byte[] bytes, long maxPixels)
    {
        if (bytes.Length == 0) throw new RequestException(400, "no image: send the image file's bytes as the request body, or ?image=NAME for a file of --images");
        ImageHeader header;
        try
        {
            header = ImageHeader.Read(bytes) ?? throw new RequestException(415, "not a PNG, JPEG or BMP image");
        }
        catch (InvalidDataException e) { throw new RequestException(422, $"cannot read the image: {e.Message}"); }
        if (header.Pixels > maxPixels)
            throw new RequestException(413, $"the image is {header.Width}×{header.Height} = {header.Pixels:N0} pixels, over the limit of {maxPixels:N0} (--max-pixels)");
        try
        {
            return ImageCodec.Decode(bytes, "(upload)");
        }
        catch (InvalidDataException e) { throw new RequestException(422, e.Message); }
    }

    /// <summary>POST /api/predict: the top-5 classes of an image.</summary>
    public PredictResponse Predict(RgbImage image)
    {
        var (input, _) = _model.Prepare(image);
        float[] scores;
        lock (_modelLock) scores = _explainer.ScoresOf(input);
        return new PredictResponse(TopFive(scores));
    }

    private IReadOnlyList<ClassScore> TopFive(float[] scores) =>
        [.. Predictions.TopK(scores, Math.Min(5, scores.Length)).Select(t => new ClassScore(t.Class, Label(t.Class), t.Probability))];

    private string? Label(int cls) => _model.Explainable.ClassNames is { } names && cls < names.Count ? names[cls] : null;

    /// <summary>Refuses an unknown method or layer (400) or a class out of range (400) before any work; returns the resolved layer.</summary>
    public string Check(string method, string? layer, int? cls)
    {
        if (!Methods.Contains(method)) throw new RequestException(400, $"unknown method '{DisplayText.Quote(method, 60)}' (known: {string.Join(", ", Methods)})");
        string resolved;
        try { resolved = layer is null ? Description.DefaultLayer : _model.Explainable.ResolveLayer(layer); }
        catch (ArgumentException) { resolved = ""; }
        if (!Layers.Contains(resolved))
            throw new RequestException(400, $"unknown layer '{DisplayText.Quote(layer ?? "", 80)}' (GET /api/model lists the {Layers.Count} layers a CAM can target)");
        if (cls is { } k && (k < 0 || k >= Description.Classes))
            throw new RequestException(400, $"class {k} is out of range: the model has classes 0 to {Description.Classes - 1}");
        return resolved;
    }

    /// <summary>
    /// POST /api/explain: one method at one layer for one class (default: the top prediction), or for
    /// <paramref name="target"/> (what <c>--target</c> takes, with <paramref name="detectorLayout"/> for a box).
    /// </summary>
    public ExplainResponse Explain(RgbImage image, string method, string? layer, int? cls, string? target = null, string detectorLayout = "yolo")
    {
        string resolved = Check(method, layer, cls);
        if (target is not null && cls is not null) throw new RequestException(400, "class and target name what to explain two ways: give one");
        var (input, shown) = _model.Prepare(image);
        CamResult result;
        ScoreDecomposition? score = null;
        string[] warnings;
        lock (_modelLock)
        {
            try
            {
                CamTarget camTarget;
                try
                {
                    camTarget = cls is { } k ? CamTarget.Class(k) : TargetOption.Parse(target, _model, _explainer, input, detectorLayout);
                    TargetOption.CheckMethods([method], camTarget);
                }
                catch (ArgumentException e)
                {
                    throw new RequestException(400, e.Message);
                }
                result = _explainer.Explain(CamMethods.Create(method), input, camTarget, resolved);
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException or NotSupportedException)
            {
                throw new RequestException(422, e.Message);
            }
            warnings = [.. _explainer.Warnings];
        }
        var capture = result.Capture;
        bool walkthrough = CamWalkthrough.Methods.Contains(method);
        if (walkthrough && _model.Explainable.CamHead is { } head && head.FeatureLayer == capture.Layer && head.Channels == capture.Channels)
            score = CamWalkthrough.Decompose(capture, head);
        var normalized = result.NormalizedOf(0).ToArray();
        var overlay = Overlay.Blend(shown, normalized, result.InputWidth, result.InputHeight, _colors);
        int targetClass = capture.TargetClasses[0];
        return new ExplainResponse(targetClass, Label(targetClass), method, capture.Layer, capture.TargetScore(0),
            "data:image/png;base64," + Convert.ToBase64String(ImageCodec.EncodePng(overlay)),
            new MapData(result.InputWidth, result.InputHeight, normalized),
            new MapData(capture.Width, capture.Height, result.MapOf(0).ToArray()),
            walkthrough && result.ChannelWeights is not null ? result.ChannelWeightsOf(0).ToArray() : null,
            score is null ? null : new ScoreData(score.PooledFeatures, score.Contributions, score.Bias, score.Recomputed, score.NetworkScore),
            warnings);
    }
}

/// <summary>A layer a CAM can target: its name and output shape [C, h, w].</summary>
public sealed record LayerDescription(string Name, int[] Shape);

/// <summary>GET /api/model's answer.</summary>
public sealed record ModelDescription(string Model, int Classes, IReadOnlyList<string>? Labels, IReadOnlyList<string> Methods,
    IReadOnlyList<LayerDescription> Layers, string DefaultLayer, int[] InputShape, string? CamLayer);

/// <summary>One class with its probability (softmax of the scores).</summary>
public sealed record ClassScore(int Class, string? Label, float Probability);

/// <summary>POST /api/predict's answer.</summary>
public sealed record PredictResponse(IReadOnlyList<ClassScore> Top);

/// <summary>A map [Height, Width], row after row.</summary>
public sealed record MapData(int Width, int Height, float[] Values);

/// <summary>y^c rebuilt from the pooled maps (CAM paper eq. 1–2): F^k, w_k^c·F^k, b_c, the sum and the network's own y^c.</summary>
public sealed record ScoreData(float[] PooledFeatures, float[] Contributions, float Bias, float Recomputed, float NetworkScore);

/// <summary>
/// POST /api/explain's answer: the overlay as a PNG data URL, the normalized map at the input's resolution (what
/// <c>explain --save-map</c> writes), the raw map ReLU(Σ_k weight·A^k) at the layer's resolution, and for CAM and Grad-CAM
/// the channel weights (and, at a GAP → linear head, the score rebuilt from them).
/// </summary>
public sealed record ExplainResponse(int Class, string? Label, string Method, string Layer, float Score, string Overlay,
    MapData Map, MapData RawMap, float[]? ChannelWeights, ScoreData? ScoreFromMaps, IReadOnlyList<string> Warnings);
