using NanoCam.Autodiff;
using NanoCam.Explain;
using NanoCam.Onnx;

namespace NanoCam.Cli.Shared;

/// <summary>
/// An imported ONNX classifier as an explainable model: scores are the pre-softmax values (the Softmax's input when the
/// graph ends in one), every tensor name of the graph is a candidate layer, and CAM reads its class weights from the FC
/// after GAP or a 1×1 conv classifier before GAP (SqueezeNet's conv10). FullGrad reads the biases of its 2-D Conv and
/// BatchNormalization nodes.
/// </summary>
public sealed class OnnxExplainable : IExplainable, ISpatialBiases
{
    private readonly OnnxModel _model;
    private readonly OnnxCamHead? _head;

    public OnnxExplainable(OnnxModel model, IReadOnlyList<string>? classNames)
    {
        _model = model;
        _head = model.FindCamHead(out var reason);
        CamHeadReason = reason;
        var tape = new Tape(Cpu.Naive.NaiveKernels.Instance) { GradEnabled = false };
        var layers = model.DescribeLayers(tape);
        SpatialBiases = FindSpatialBiases(model, layers);
        // Default layer: the last tensor with a spatial output (before any pooling to 1×1).
        DefaultLayer = layers.SelectMany(l => l.Outputs.Zip(l.OutputShapes))
            .LastOrDefault(o => o.Second is { Length: 4 } s && s[2] * s[3] > 1).First
            ?? throw new ArgumentException($"{model.Source} has no layer with a spatial output to explain");
        var scores = _model.Scores(new Tape(Cpu.Naive.NaiveKernels.Instance) { GradEnabled = false }, Tensor.Zeros(InputShape));
        Classes = scores.Shape[1];
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

    public IReadOnlyList<LayerBias> SpatialBiases { get; }

    /// <summary>
    /// Conv nodes with a bias initializer and BatchNormalization nodes whose output is [N, K, h, w], in graph order. A
    /// batch normalization's bias is B − mean·scale/√(var + ε), what it adds after scaling its input (as pytorch-grad-cam's
    /// FullGrad takes it). An exporter that folds BN into the convolution leaves one Conv whose bias is the sum of both.
    /// </summary>
    private static List<LayerBias> FindSpatialBiases(OnnxModel model, IReadOnlyList<OnnxLayerInfo> layers)
    {
        var spatial = layers.SelectMany(l => l.Outputs.Zip(l.OutputShapes)).Where(o => o.Second is { Length: 4 })
            .Select(o => o.First).ToHashSet();
        float[]? Values(OnnxNode node, int input) =>
            input < node.Inputs.Count && model.Initializer(node.Inputs[input]) is { IsFloat: true } v ? v.ToFloatArray() : null;
        var biases = new List<LayerBias>();
        foreach (var node in model.Nodes)
        {
            if (node.Outputs.Count == 0 || !spatial.Contains(node.Outputs[0])) continue;
            if (node.OpType == "Conv" && Values(node, 2) is { } bias)
                biases.Add(new LayerBias(node.Outputs[0], bias));
            else if (node.OpType == "BatchNormalization" && Values(node, 1) is { } scale && Values(node, 2) is { } shift
                && Values(node, 3) is { } mean && Values(node, 4) is { } variance)
            {
                float epsilon = node.Float("epsilon", 1e-5f);
                var folded = new float[shift.Length];
                for (int k = 0; k < folded.Length; k++) folded[k] = shift[k] - mean[k] * scale[k] / MathF.Sqrt(variance[k] + epsilon);
                biases.Add(new LayerBias(node.Outputs[0], folded));
            }
        }
        return biases;
    }

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
