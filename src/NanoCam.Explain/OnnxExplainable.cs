using Google.Protobuf;
using NanoCam.Autodiff;
using NanoCam.Onnx;
using NanoCam.Onnx.Protos;

namespace NanoCam.Explain;

/// <summary>
/// An imported ONNX classifier as an explainable model: scores are the pre-softmax values (the Softmax's input when the
/// graph ends in one), every tensor name of the graph (or the PyTorch module path that outputs it) is a candidate layer,
/// and CAM reads its class weights from the FC after GAP or a 1×1 conv classifier before GAP (SqueezeNet's conv10).
/// FullGrad reads the biases of its 2-D Conv and BatchNormalization nodes.
/// </summary>
public sealed class OnnxExplainable : IExplainable, ISpatialBiases, IRunsAboveLayer
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
        SpatialBiases = FindSpatialBiases(model, layers);
        var scoresName = model.OutputBeforeSoftmax ?? model.OutputNames[0];
        // A transformer's patch embedding is four-dimensional too, but its tokens after attention are what to explain.
        var spatial = model.DefaultCamLayer(scoresName);
        var tokens = DefaultTokenLayer;
        DefaultLayer = (tokens is not null && (spatial is null || model.Producer(tokens)!.Index > model.Producer(spatial)!.Index) ? tokens : spatial)
            ?? throw new ArgumentException($"{model.Source} has no four-dimensional layer with a spatial output, and no attention whose tokens could be laid out, to explain");
        var scores = layers.SelectMany(l => l.Outputs.Zip(l.OutputShapes)).FirstOrDefault(o => o.First == scoresName).Second
            ?? throw new ArgumentException($"{model.Source}: the shape of its scores is unknown");
        Classes = scores.Skip(1).Aggregate(1, (p, d) => p * d);
        if (classNames is not null && classNames.Count != Classes)
            throw new ArgumentException($"the label file has {classNames.Count} names but the model has {Classes} classes");
        ClassNames = classNames;
    }

    public OnnxModel Model => _model;

    /// <summary>The label files looked for beside an ONNX model when nothing names one, in this order.</summary>
    public static readonly string[] LabelFilesBeside = ["labels.txt", "imagenet_labels.txt", "synset.txt"];

    /// <summary>The output's dimensions after the batch axis, from the folded graph for this input size (nothing runs).</summary>
    public int[] OutputDims(int channels, int height, int width)
    {
        var scoresName = _model.OutputBeforeSoftmax ?? _model.OutputNames[0];
        var dims = _model.DescribeLayers([1, channels, height, width]).SelectMany(l => l.Outputs.Zip(l.OutputShapes)).FirstOrDefault(o => o.First == scoresName).Second;
        return dims is null || dims.Length < 2 ? [Classes] : dims[1..];
    }

    /// <summary>[1, C, H, W] from the graph's declared input (unknown sizes as 1).</summary>
    public int[] InputShape => _model.Inputs[0].Dims.Select(d => d < 0 ? 1 : d).ToArray();

    public Tensor Scores(Tape tape, Tensor input) => _model.Scores(tape, input);

    public int Classes { get; }

    public IReadOnlyList<string>? ClassNames { get; }

    public string CamHeadReason { get; }

    public CamHead? CamHead => _camHead ??= _head is null ? null : new CamHead(_head.FeatureLayer, _head.Weights, _head.Classes, _head.Channels, _head.Bias);

    // The head as the methods read it, made once (an imported model's weights do not change).
    private CamHead? _camHead;

    public string DefaultLayer { get; }

    /// <summary>
    /// Whether a layer read by nothing but a ReLU shows its activations after that ReLU (its gradient stays the layer's).
    /// On by default: it is what pytorch-grad-cam captures on a PyTorch model whose ReLU runs in place (torchvision's
    /// do), the reference users compare maps with; docs/pytorch-grad-cam-parity.md says more.
    /// </summary>
    public bool InPlaceRelu { get; init; } = true;

    public string ActivationsOf(string layer) =>
        InPlaceRelu && _model.Consumers(layer).Take(2).ToList() is [{ OpType: "Relu" } relu] && relu.Outputs[0].Length > 0 ? relu.Outputs[0] : layer;

    /// <summary>
    /// The default layer of a transformer explained with token reshaping: the last LayerNormalization that the last
    /// attention Softmax depends on — the last block's first norm (torchvision's encoder.layers[-1].ln_1, timm's
    /// blocks[-1].norm1), where pytorch-grad-cam's ViT example looks, since after the last attention only the class
    /// token reaches the head. Null for a graph without attention.
    /// </summary>
    public string? DefaultTokenLayer
    {
        get
        {
            var softmax = _model.Nodes.LastOrDefault(n => n.OpType == "Softmax");
            if (softmax is null) return null;
            var ancestors = new HashSet<OnnxNode>();
            var stack = new Stack<OnnxNode>([softmax]);
            while (stack.Count > 0)
            {
                var node = stack.Pop();
                if (!ancestors.Add(node)) continue;
                foreach (var input in node.Inputs) if (_model.Producer(input) is { } producer) stack.Push(producer);
            }
            return _model.Nodes.LastOrDefault(n => n.OpType == "LayerNormalization" && ancestors.Contains(n))?.Outputs[0];
        }
    }

    /// <summary>
    /// 1: a no-grad pass of an imported model runs its convolutions one image at a time (the inference plan's packed
    /// GEMMs), so a batch saves nothing, and at present a batch of several images writing into a concatenation's
    /// channels goes through a copy per convolution (46 MB per 8-image SqueezeNet pass; one image: nothing). Measured
    /// on 44 SqueezeNet images under load: one at a time 1.4–1.7 s and 0.4 MB, 22 at a time 1.8–2.0 s and 256 MB.
    /// </summary>
    public int PerturbationBatch => 1;

    /// <summary>Any batch when the graph is batch-independent (see <see cref="OnnxModel.Batch"/>), else its declared batch.</summary>
    public int MaxBatch => _model.MaxBatch;

    /// <summary>An ONNX tensor name, or a PyTorch module path (<c>layer4.2</c>) resolved to that module's output tensor.</summary>
    public string ResolveLayer(string layer) => _model.ResolveLayer(layer)
        ?? throw new ArgumentException($"layer '{layer}' is neither a tensor nor a module path of {Path.GetFileName(_model.Source)}; `nanocam layers --model {Path.GetFileName(_model.Source)}` lists them");

    public IReadOnlyList<LayerBias> SpatialBiases { get; }

    /// <summary>
    /// Nodes whose output [N, K, h, w] adds a per-channel constant, in graph order: Conv with a bias initializer (its B),
    /// BatchNormalization (B − mean·scale/√(var + ε), what it adds after scaling its input, as pytorch-grad-cam's FullGrad
    /// takes it), and Add of a constant shaped [K, 1, 1] or [1, K, 1, 1] (how CNTK and TensorFlow exports, and a batch norm
    /// decomposed into Mul + Add, carry a convolution's bias). An exporter that folds BN into the convolution leaves one
    /// Conv whose bias is the sum of both. Gemm and MatMul biases are not spatial and are left out, as pytorch-grad-cam does.
    /// </summary>
    private static List<LayerBias> FindSpatialBiases(OnnxModel model, IReadOnlyList<OnnxLayerInfo> layers)
    {
        var spatial = layers.SelectMany(l => l.Outputs.Zip(l.OutputShapes)).Where(o => o.Second is { Length: 4 })
            .ToDictionary(o => o.First, o => o.Second!);
        float[]? Values(OnnxNode node, int input) =>
            input < node.Inputs.Count && model.Initializer(node.Inputs[input]) is { IsFloat: true } v ? v.ToFloatArray() : null;
        float[]? ChannelConstant(string name, int channels) =>
            model.Initializer(name) is { IsFloat: true } v && (v.Dims.SequenceEqual([channels, 1, 1]) || v.Dims.SequenceEqual([1, channels, 1, 1]))
                ? v.ToFloatArray() : null;
        var biases = new List<LayerBias>();
        foreach (var node in model.Nodes)
        {
            if (node.Outputs.Count == 0 || !spatial.TryGetValue(node.Outputs[0], out var shape)) continue;
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
            else if (node.OpType == "Add" && node.Inputs.Count == 2)
            {
                // Z = x + b, b one value per output channel shared over positions; a sum of two constants is not a layer.
                var (left, right) = (ChannelConstant(node.Inputs[0], shape[1]), ChannelConstant(node.Inputs[1], shape[1]));
                if ((left is null) != (right is null)) biases.Add(new LayerBias(node.Outputs[0], left ?? right!));
            }
        }
        return biases;
    }

    // The part of the graph above each layer asked for, or null where the part above also reads the image.
    // (Keyed by the layer's channels and size too: a graph with dynamic sizes is cut for the size it is given.)
    private readonly Dictionary<(string Layer, int Channels, int Height, int Width), OnnxModel?> _above = [];

    /// <summary>
    /// The graph's nodes that the scores need above <paramref name="layer"/>, as a model whose input is that tensor
    /// (batch symbolic, the rest of its dimensions from the folded graph) and whose output is the scores: null when
    /// one of them also reads the image or a tensor computed below the layer without going through it (a skip
    /// connection around it), or runs a subgraph.
    /// </summary>
    public Tensor? ScoresAbove(Tape tape, string layer, Tensor activations)
    {
        if (activations.Shape.Rank != 4) return null;
        var key = (layer, activations.Shape[1], activations.Shape[2], activations.Shape[3]);
        if (!_above.TryGetValue(key, out var above)) _above[key] = above = AboveModel(layer, key.Item2, key.Item3, key.Item4);
        if (above is null || activations.Shape[0] > above.MaxBatch) return null;
        return above.Scores(tape, activations);
    }

    private OnnxModel? AboveModel(string layer, int channels, int height, int width)
    {
        string scoresName = _model.OutputBeforeSoftmax ?? _model.OutputNames[0];
        if (layer == scoresName) return null;
        int[] dims = [1, channels, height, width];
        var model = ModelProto.Parser.ParseFrom(_model.ToOnnxBytes());
        var graph = model.Graph;
        var producers = new Dictionary<string, int>();
        for (int i = 0; i < graph.Node.Count; i++)
            foreach (var output in graph.Node[i].Output) if (output.Length > 0) producers[output] = i;
        var initializers = graph.Initializer.Select(i => i.Name).ToHashSet();
        var keep = new bool[graph.Node.Count];
        var seen = new HashSet<string>();
        var stack = new Stack<string>([scoresName]);
        bool reachesLayer = false;
        while (stack.Count > 0)
        {
            var name = stack.Pop();
            if (name.Length == 0 || !seen.Add(name)) continue;
            if (name == layer) { reachesLayer = true; continue; }
            if (initializers.Contains(name)) continue;
            // A graph input (the image) read above the layer: the part above is not a function of the layer alone.
            if (!producers.TryGetValue(name, out int index)) return null;
            var node = graph.Node[index];
            if (node.Attribute.Any(a => a.G is not null || a.Graphs.Count > 0)) return null;
            keep[index] = true;
            foreach (var input in node.Input) stack.Push(input);
        }
        if (!reachesLayer) return null;
        // Every kept node's inputs are the layer, initializers or kept nodes' outputs; whatever else below the layer
        // it would need was refused above (a skip connection around the layer reaches the image).
        var pruned = new ModelProto(model) { Graph = new GraphProto { Name = graph.Name } };
        pruned.Graph.Node.AddRange(graph.Node.Where((_, i) => keep[i]));
        var read = pruned.Graph.Node.SelectMany(n => n.Input).ToHashSet();
        pruned.Graph.Initializer.AddRange(graph.Initializer.Where(i => read.Contains(i.Name)));
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        for (int d = 1; d < 4; d++) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = dims[d] });
        pruned.Graph.Input.Add(new ValueInfoProto { Name = layer, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = shape } } });
        pruned.Graph.Output.Add(new ValueInfoProto { Name = scoresName });
        try
        {
            return OnnxModel.Load(pruned.ToByteArray(), $"{_model.Source} above {layer}", File.Exists(_model.Source) ? Path.GetDirectoryName(Path.GetFullPath(_model.Source)) : null);
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or NotSupportedException)
        {
            return null;
        }
    }

    public static IReadOnlyList<string>? LoadLabels(string? path)
    {
        if (path is null) return null;
        if (!File.Exists(path)) throw new FileNotFoundException($"label file '{path}' not found");
        if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            return System.Text.Json.JsonSerializer.Deserialize<string[]>(File.ReadAllText(path))
                ?? throw new InvalidDataException($"label file '{path}' is not a JSON array of names");
        // One name per line; an "index,name" line (imagenet_labels.txt) keeps the part after the index, and a
        // "wnid name" line (synset.txt: "n01440764 tench, Tinca tinca") the part after the WordNet id.
        return File.ReadAllLines(path).Where(l => l.Length > 0)
            .Select(l => l.IndexOf(',') is > 0 and var comma && int.TryParse(l.AsSpan(0, comma), out _) ? l[(comma + 1)..]
                : l.Length > 10 && l[0] == 'n' && l[9] == ' ' && l.AsSpan(1, 8).IndexOfAnyExceptInRange('0', '9') < 0 ? l[10..] : l).ToArray();
    }
}
