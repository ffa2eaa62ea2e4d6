using Google.Protobuf;
using NanoCam.Onnx.Protos;

namespace NanoCam.Onnx;

/// <summary>The global pooling of a surgery head: average (the paper's GAP) or max (its GoogLeNet-GMP baseline).</summary>
public enum GapSurgeryPool
{
    /// <summary>GlobalAveragePool: y^c = Σ_k w_k^c · (1/Z) Σ_xy A^k(x,y) (CAM eq. 1).</summary>
    Average,

    /// <summary>GlobalMaxPool: y^c = Σ_k w_k^c · max_xy A^k(x,y).</summary>
    Max,
}

/// <summary>What to build on the kept layers: the cut, the optional added convolution, the pooling and the classes.</summary>
/// <param name="CutAfter">The last kept tensor: an ONNX tensor name or a PyTorch module path (as <see cref="OnnxModel.ResolveLayer"/> reads it).</param>
/// <param name="Classes">K, the classes of the new linear layer (at least 2).</param>
public sealed record GapSurgeryOptions(string CutAfter, int Classes)
{
    /// <summary>The added convolution's kernel size k (odd: stride 1 and padding k/2 keep the map's size); ignored when <see cref="ConvUnits"/> is 0.</summary>
    public int ConvKernel { get; init; } = 3;

    /// <summary>The added convolution's output channels U (the paper: 1024); 0 adds no convolution.</summary>
    public int ConvUnits { get; init; } = 1024;

    /// <summary>Global average or global max pooling.</summary>
    public GapSurgeryPool Pool { get; init; } = GapSurgeryPool.Average;

    /// <summary>Seeds the new weights (He-normal convolution, small normal classifier).</summary>
    public int Seed { get; init; } = 1;
}

/// <summary>One layer of the new head: its node, tensor, output shape (batch as −1) and parameter count.</summary>
public sealed record GapHeadLayer(string Module, string OpType, string Tensor, int[] OutputDims, long Parameters);

/// <summary>The surgery's result: the new model and a description of what was kept and added.</summary>
/// <param name="Model">A complete ModelProto: kept nodes and initializers, the head, output "logits" [N, K], a symbolic batch.</param>
/// <param name="CutTensor">The ONNX name of the cut tensor.</param>
/// <param name="CutDims">Its shape for one image [1, C, H, W].</param>
/// <param name="KeptNodes">How many of the original nodes remain.</param>
/// <param name="RemovedNodes">How many were pruned (everything the cut tensor does not depend on).</param>
/// <param name="KeptParameters">Float parameters of the kept layers.</param>
/// <param name="Head">The added layers in order.</param>
/// <param name="CamLayer">The tensor CAM reads (the last map before the pooling).</param>
public sealed record GapSurgeryResult(ModelProto Model, string CutTensor, int[] CutDims, int KeptNodes, int RemovedNodes, long KeptParameters,
    IReadOnlyList<GapHeadLayer> Head, string CamLayer)
{
    /// <summary>Parameters of the kept layers plus the head's.</summary>
    public long TotalParameters => KeptParameters + Head.Sum(h => h.Parameters);

    /// <summary>Writes the model as an .onnx file's bytes.</summary>
    public void WriteTo(Stream stream) => Model.WriteTo(stream);
}

/// <summary>
/// GAP surgery (Zhou et al. 2016, "Learning Deep Features for Discriminative Localization", §2–3): keep a network up to a
/// spatial layer, optionally add a k×k convolution (the paper: 3×3, stride 1, pad 1, 1024 units) followed by a ReLU, then
/// global average pooling and a linear layer to K classes, so that CAM's class map M_c = Σ_k w_k^c A^k (eq. 2) reads
/// the new classifier's weights. Global max pooling instead gives the paper's GoogLeNet-GMP baseline.
/// Everything the cut tensor does not depend on is pruned, with the initializers no kept node reads.
/// </summary>
public static class GapSurgery
{
    /// <summary>The graph output the head writes.</summary>
    public const string OutputName = "logits";

    /// <summary>Reads an .onnx file and builds the new model on it.</summary>
    public static GapSurgeryResult Apply(string path, GapSurgeryOptions options)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"ONNX model file not found: {path}", path);
        return Apply(File.ReadAllBytes(path), path, Path.GetDirectoryName(Path.GetFullPath(path)), options);
    }

    /// <summary>Builds the new model on a serialized ModelProto (<paramref name="source"/> names it in errors).</summary>
    public static GapSurgeryResult Apply(byte[] bytes, string source, string? baseDirectory, GapSurgeryOptions options)
    {
        if (options.Classes < 2) throw new ArgumentException($"--classes must be at least 2, got {options.Classes}");
        if (options.ConvUnits < 0) throw new ArgumentException($"the added convolution needs at least 1 unit, got {options.ConvUnits}");
        if (options.ConvUnits > 0 && (options.ConvKernel < 1 || options.ConvKernel % 2 == 0))
            throw new ArgumentException($"the added convolution's kernel must be odd (stride 1, padding k/2 keep the map's size), got {options.ConvKernel}");
        ModelProto original;
        try { original = ModelProto.Parser.ParseFrom(bytes); }
        catch (InvalidProtocolBufferException ex) { throw new InvalidDataException($"{source}: not a valid ONNX model, the file is truncated or corrupted", ex); }
        if (original.Graph is null || original.Graph.Node.Count == 0)
            throw new InvalidDataException($"{source}: not a valid ONNX model (no graph or nodes)");
        var graph = original.Graph;
        var initializerNames = new HashSet<string>(graph.Initializer.Select(i => i.Name));
        var realInputs = graph.Input.Where(i => !initializerNames.Contains(i.Name)).ToList();
        if (realInputs.Count != 1) throw new ArgumentException($"{source} has {realInputs.Count} inputs; GAP surgery needs exactly one (the image)");
        var input = realInputs[0];

        var cut = Resolve(original, options.CutAfter)
            ?? throw new ArgumentException($"--cut-after '{DisplayText.Quote(options.CutAfter)}' names no layer of {source}; {Candidates(bytes, source, baseDirectory)}");
        if (cut == input.Name) throw new ArgumentException($"--cut-after '{DisplayText.Quote(options.CutAfter)}' is the graph input itself: cut after a layer; {Candidates(bytes, source, baseDirectory)}");

        // The nodes the cut tensor depends on, in the original (topological) order.
        var producers = new Dictionary<string, int>();
        for (int i = 0; i < graph.Node.Count; i++)
            foreach (var o in graph.Node[i].Output) if (o.Length > 0) producers[o] = i;
        var keep = new bool[graph.Node.Count];
        var stack = new Stack<string>([cut]);
        var seen = new HashSet<string>();
        bool readsInput = false;
        while (stack.Count > 0)
        {
            var name = stack.Pop();
            if (!seen.Add(name)) continue;
            if (name == input.Name) readsInput = true;
            if (!producers.TryGetValue(name, out var index) || keep[index]) continue;
            keep[index] = true;
            foreach (var name2 in NamesRead(graph.Node[index])) stack.Push(name2);
        }
        if (!readsInput)
            throw new ArgumentException($"--cut-after '{DisplayText.Quote(options.CutAfter)}' ({cut}) does not depend on the input '{input.Name}': it is not a layer on the path from the image; {Candidates(bytes, source, baseDirectory)}");

        // The model's header (IR version, opsets, metadata such as preprocessing hints) without the old graph.
        original.Graph = null;
        var pruned = new ModelProto(original) { Graph = new GraphProto { Name = graph.Name, DocString = graph.DocString } };
        original.Graph = graph;
        pruned.Graph.Node.AddRange(graph.Node.Where((_, i) => keep[i]));
        var read = new HashSet<string>(pruned.Graph.Node.SelectMany(NamesRead));
        foreach (var init in graph.Initializer)
            if (read.Contains(init.Name)) pruned.Graph.Initializer.Add(Inlined(init, baseDirectory, source));
        // Initializers listed as inputs (IR < 4 files) stay listed as inputs.
        foreach (var vi in graph.Input)
            if (vi.Name == input.Name) pruned.Graph.Input.Add(WithSymbolicBatch(vi));
            else if (read.Contains(vi.Name)) pruned.Graph.Input.Add(vi);

        // Shapes of the kept part, folded from the declared input (batch 1): the cut must be a map [1, C, H, W].
        pruned.Graph.Output.Add(new ValueInfoProto { Name = cut });
        var keptModel = OnnxModel.Load(pruned.ToByteArray(), source, baseDirectory);
        var inputDims = keptModel.DeclaredInputDims();
        if (inputDims.Length > 0) inputDims[0] = 1;
        var dims = keptModel.DescribeLayers(inputDims).SelectMany(l => l.Outputs.Zip(l.OutputShapes)).FirstOrDefault(o => o.First == cut).Second;
        if (dims is not { Length: 4 } || dims[2] * dims[3] <= 1)
        {
            string shape = dims is null ? "unknown" : $"[{string.Join(", ", dims)}]";
            throw new ArgumentException($"--cut-after '{DisplayText.Quote(options.CutAfter)}' ({cut}, shape {shape}) has no spatial output: cut at a 4-D [N, C, H, W] map larger than 1×1; {Candidates(bytes, source, baseDirectory)}");
        }
        // As PyTorch counts them: torch.onnx stores equal initializers once (zero biases) and copies them with Identity nodes.
        long keptParameters = keptModel.Parameters.Values.Sum(p => (long)p.Shape.Size)
            + keptModel.Nodes.Where(n => n.OpType == "Identity" && keptModel.Parameters.ContainsKey(n.Inputs[0])).Sum(n => (long)keptModel.Parameters[n.Inputs[0]].Shape.Size);
        pruned.Graph.Output.Clear();

        var head = AddHead(pruned.Graph, cut, dims, options);
        return new GapSurgeryResult(pruned, cut, dims, pruned.Graph.Node.Count - head.Count, graph.Node.Count - keep.Count(k => k), keptParameters,
            head, options.ConvUnits > 0 ? head[1].Tensor : cut);
    }

    /// <summary>Appends conv (+ReLU), pooling, flatten and the linear classifier after <paramref name="cut"/>; sets the output "logits" [N, K].</summary>
    private static List<GapHeadLayer> AddHead(GraphProto graph, string cut, int[] cutDims, GapSurgeryOptions options)
    {
        var taken = new HashSet<string>(graph.Node.SelectMany(n => n.Output).Concat(graph.Initializer.Select(i => i.Name)).Concat(graph.Input.Select(i => i.Name)));
        // "head", or "head2", … when a kept layer already uses the name (surgery on a surgery's output).
        string prefix = "head";
        for (int n = 2; taken.Any(t => t == prefix || t.StartsWith(prefix + ".", StringComparison.Ordinal)); n++) prefix = $"head{n}";
        string logits = taken.Contains(OutputName) ? $"{prefix}.{OutputName}" : OutputName;
        var random = new Random(options.Seed);
        var layers = new List<GapHeadLayer>();
        int channels = cutDims[1], height = cutDims[2], width = cutDims[3];
        string current = cut;

        if (options.ConvUnits > 0)
        {
            int k = options.ConvKernel, units = options.ConvUnits;
            // He initialisation (He et al. 2015): w ~ N(0, 2 / fan_in), fan_in = C·k·k, as a ReLU follows.
            var weight = Normal(random, units * channels * k * k, MathF.Sqrt(2f / (channels * k * k)));
            graph.Initializer.Add(Float($"{prefix}.conv.weight", [units, channels, k, k], weight));
            graph.Initializer.Add(Float($"{prefix}.conv.bias", [units], new float[units]));
            var conv = Node("Conv", $"/{prefix}/conv/Conv", [current, $"{prefix}.conv.weight", $"{prefix}.conv.bias"], $"{prefix}.conv");
            conv.Attribute.Add(Ints("kernel_shape", k, k));
            conv.Attribute.Add(Ints("pads", k / 2, k / 2, k / 2, k / 2));
            conv.Attribute.Add(Ints("strides", 1, 1));
            conv.Attribute.Add(Ints("dilations", 1, 1));
            conv.Attribute.Add(new AttributeProto { Name = "group", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
            graph.Node.Add(conv);
            layers.Add(new GapHeadLayer($"{prefix}.conv", "Conv", $"{prefix}.conv", [-1, units, height, width], (long)units * channels * k * k + units));
            // The paper's choice: a ReLU after the added convolution, so the maps CAM weighs are non-negative.
            graph.Node.Add(Node("Relu", $"/{prefix}/relu/Relu", [$"{prefix}.conv"], $"{prefix}.relu"));
            layers.Add(new GapHeadLayer($"{prefix}.relu", "Relu", $"{prefix}.relu", [-1, units, height, width], 0));
            current = $"{prefix}.relu";
            channels = units;
        }

        string poolOp = options.Pool == GapSurgeryPool.Average ? "GlobalAveragePool" : "GlobalMaxPool";
        graph.Node.Add(Node(poolOp, $"/{prefix}/pool/{poolOp}", [current], $"{prefix}.pool"));
        layers.Add(new GapHeadLayer($"{prefix}.pool", poolOp, $"{prefix}.pool", [-1, channels, 1, 1], 0));
        var flatten = Node("Flatten", $"/{prefix}/flatten/Flatten", [$"{prefix}.pool"], $"{prefix}.flatten");
        flatten.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        graph.Node.Add(flatten);
        layers.Add(new GapHeadLayer($"{prefix}.flatten", "Flatten", $"{prefix}.flatten", [-1, channels], 0));

        int classes = options.Classes;
        // A small start for the classifier (std 0.01, bias 0): fine-tuning sets it.
        graph.Initializer.Add(Float($"{prefix}.fc.weight", [classes, channels], Normal(random, classes * channels, 0.01f)));
        graph.Initializer.Add(Float($"{prefix}.fc.bias", [classes], new float[classes]));
        var fc = Node("Gemm", $"/{prefix}/fc/Gemm", [$"{prefix}.flatten", $"{prefix}.fc.weight", $"{prefix}.fc.bias"], logits);
        fc.Attribute.Add(new AttributeProto { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        graph.Node.Add(fc);
        layers.Add(new GapHeadLayer($"{prefix}.fc", "Gemm", logits, [-1, classes], (long)classes * channels + classes));

        graph.Output.Add(FloatInfo(logits, [-1, classes]));
        // Shapes recorded for the old graph (often with a fixed batch) say nothing about the new one.
        graph.ValueInfo.Clear();
        return layers;
    }

    /// <summary>Every name a node reads: its inputs and the outer-scope names its subgraphs (If, Loop, Scan bodies) read.</summary>
    private static IEnumerable<string> NamesRead(NodeProto node)
    {
        foreach (var i in node.Input) if (i.Length > 0) yield return i;
        foreach (var a in node.Attribute)
            foreach (var g in a.G is null ? a.Graphs : a.Graphs.Append(a.G))
                foreach (var n in g.Node)
                    foreach (var name in NamesRead(n)) yield return name;
    }

    /// <summary>The tensor a layer name refers to: a graph input or node output, else a PyTorch module path; null when neither.</summary>
    private static string? Resolve(ModelProto model, string layer)
    {
        var graph = model.Graph;
        if (graph.Input.Any(i => i.Name == layer) && !graph.Initializer.Any(i => i.Name == layer)) return layer;
        if (graph.Node.Any(n => n.Output.Contains(layer))) return layer;
        var nodes = graph.Node.Select((n, i) => new OnnxNode(n, i, 0)).ToList();
        return new OnnxModulePaths(nodes).OutputOf(layer);
    }

    /// <summary>The maps one could cut after ("candidates: …"), as <c>nanocam layers</c> lists them, nearest the output last.</summary>
    private static string Candidates(byte[] bytes, string source, string? baseDirectory)
    {
        var model = OnnxModel.Load(bytes, source, baseDirectory);
        var names = new List<string>();
        foreach (var layer in model.DescribeLayers())
            for (int i = 0; i < layer.Outputs.Count; i++)
                if (layer.OutputShapes[i] is { Length: 4 } d && d[2] * d[3] > 1)
                    names.Add(model.ModulePaths.ModulesOf(layer.Outputs[i]) is [var module, ..] ? module : layer.Outputs[i]);
        names = names.Distinct().ToList();
        if (names.Count == 0) return "the model has no 4-D [N, C, H, W] map to cut after";
        const int shown = 8;
        return names.Count <= shown
            ? $"candidates (4-D maps): {string.Join(", ", names)}"
            : $"candidates (4-D maps, the last {shown} of {names.Count}; 'nanocam layers' lists all): {string.Join(", ", names.TakeLast(shown))}";
    }

    /// <summary>A copy of the input's description with its first (batch) dimension symbolic, "N".</summary>
    private static ValueInfoProto WithSymbolicBatch(ValueInfoProto input)
    {
        var copy = input.Clone();
        if (copy.Type?.TensorType?.Shape is { Dim.Count: > 0 } shape)
            shape.Dim[0] = new TensorShapeProto.Types.Dimension { DimParam = "N" };
        return copy;
    }

    /// <summary>An initializer with its data in the file: one stored as external data is read and written inline.</summary>
    private static TensorProto Inlined(TensorProto init, string? baseDirectory, string source)
    {
        if (init.DataLocation != TensorProto.Types.DataLocation.External) return init;
        var value = OnnxTensors.Decode(init, baseDirectory, source);
        if (!value.IsFloat) throw new NotSupportedException($"{source}: initializer '{DisplayText.Quote(init.Name)}' keeps non-float data outside the file; GAP surgery inlines float data only");
        return Float(init.Name, value.Dims, value.ToFloatArray());
    }

    private static NodeProto Node(string opType, string name, string[] inputs, string output)
    {
        var node = new NodeProto { OpType = opType, Name = name };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        return node;
    }

    private static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    private static TensorProto Float(string name, int[] dims, float[] values)
    {
        var t = new TensorProto { Name = name, DataType = (int)OnnxDataType.Float };
        t.Dims.AddRange(dims.Select(d => (long)d));
        var raw = new byte[values.Length * sizeof(float)];
        Buffer.BlockCopy(values, 0, raw, 0, raw.Length);
        t.RawData = ByteString.CopyFrom(raw);
        return t;
    }

    /// <summary>A float tensor's description; −1 dimensions are written symbolic ("N").</summary>
    private static ValueInfoProto FloatInfo(string name, int[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims) shape.Dim.Add(d < 0 ? new TensorShapeProto.Types.Dimension { DimParam = "N" } : new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)OnnxDataType.Float, Shape = shape } } };
    }

    /// <summary>n draws from N(0, std²) (Box–Muller on a seeded generator).</summary>
    private static float[] Normal(Random random, int n, float std)
    {
        var values = new float[n];
        for (int i = 0; i < n; i += 2)
        {
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
            double r = Math.Sqrt(-2.0 * Math.Log(u1));
            values[i] = (float)(std * r * Math.Cos(2 * Math.PI * u2));
            if (i + 1 < n) values[i + 1] = (float)(std * r * Math.Sin(2 * Math.PI * u2));
        }
        return values;
    }
}
