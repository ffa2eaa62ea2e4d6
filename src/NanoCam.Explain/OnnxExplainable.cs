using NanoCam.Autodiff;
using NanoCam.Onnx;

namespace NanoCam.Explain;

/// <summary>
/// An imported ONNX classifier as an explainable model: scores are the pre-softmax values (the Softmax's input when the
/// graph ends in one), every tensor name of the graph (or the PyTorch module path that outputs it) is a candidate layer,
/// and CAM reads its class weights from the FC after GAP or a 1×1 conv classifier before GAP (SqueezeNet's conv10).
/// </summary>
public sealed class OnnxExplainable : IExplainable
{
    private readonly OnnxModel _model;
    private readonly OnnxCamHead? _head;

    public OnnxExplainable(OnnxModel model, IReadOnlyList<string>? classNames)
    {
        _model = model;
        _head = model.FindCamHead(out var reason);
        CamHeadReason = reason;
        // Shapes come from the folded graph: nothing runs here.
        var layers = model.DescribeLayers();
        var scoresName = model.OutputBeforeSoftmax ?? model.OutputNames[0];
        DefaultLayer = model.DefaultCamLayer(scoresName)
            ?? throw new ArgumentException($"{model.Source} has no four-dimensional layer with a spatial output to explain");
        var scores = layers.SelectMany(l => l.Outputs.Zip(l.OutputShapes)).FirstOrDefault(o => o.First == scoresName).Second
            ?? throw new ArgumentException($"{model.Source}: the shape of its scores is unknown");
        Classes = scores.Skip(1).Aggregate(1, (p, d) => p * d);
        if (classNames is not null && classNames.Count != Classes)
            throw new ArgumentException($"the label file has {classNames.Count} names but the model has {Classes} classes");
        ClassNames = classNames;
    }

    public OnnxModel Model => _model;

    /// <summary>[1, C, H, W] from the graph's declared input (unknown sizes as 1).</summary>
    public int[] InputShape => _model.Inputs[0].Dims.Select(d => d < 0 ? 1 : d).ToArray();

    public Tensor Scores(Tape tape, Tensor input) => _model.Scores(tape, input);

    public int Classes { get; }

    public IReadOnlyList<string>? ClassNames { get; }

    public string CamHeadReason { get; }

    public CamHead? CamHead => _head is null ? null : new CamHead(_head.FeatureLayer, _head.Weights, _head.Classes, _head.Channels, _head.Bias);

    public string DefaultLayer { get; }

    /// <summary>Any batch when the graph is batch-independent (see <see cref="OnnxModel.Batch"/>), else its declared batch.</summary>
    public int MaxBatch => _model.MaxBatch;

    /// <summary>An ONNX tensor name, or a PyTorch module path (<c>layer4.2</c>) resolved to that module's output tensor.</summary>
    public string ResolveLayer(string layer) => _model.ResolveLayer(layer)
        ?? throw new ArgumentException($"layer '{layer}' is neither a tensor nor a module path of {Path.GetFileName(_model.Source)}; `nanocam layers --model {Path.GetFileName(_model.Source)}` lists them");

    public static IReadOnlyList<string>? LoadLabels(string? path)
    {
        if (path is null) return null;
        if (!File.Exists(path)) throw new FileNotFoundException($"label file '{path}' not found");
        if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            return System.Text.Json.JsonSerializer.Deserialize<string[]>(File.ReadAllText(path))
                ?? throw new InvalidDataException($"label file '{path}' is not a JSON array of names");
        // One name per line; an "index,name" line (imagenet_labels.txt) keeps the part after the index.
        return File.ReadAllLines(path).Where(l => l.Length > 0)
            .Select(l => l.IndexOf(',') is > 0 and var comma && int.TryParse(l.AsSpan(0, comma), out _) ? l[(comma + 1)..] : l).ToArray();
    }
}
