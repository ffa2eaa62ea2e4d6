using Google.Protobuf;
using NanoCam.Autodiff;
using System.Runtime.CompilerServices;
using NanoCam.Onnx.Operators;
using NanoCam.Onnx.Planning;
using NanoCam.Onnx.Protos;
using NanoCam.Ops;

namespace NanoCam.Onnx;

/// <summary>A graph input: its name, element type, and dimensions (-1 where the file gives a symbolic or no size).</summary>
public sealed record OnnxGraphInput(string Name, OnnxDataType ElementType, IReadOnlyList<int> Dims)
{
    /// <summary>Tensor for a plain tensor input; Sequence or None (an optional) for the containers ONNX also allows.</summary>
    public OnnxValueKind Container { get; init; } = OnnxValueKind.Tensor;

    public override string ToString() => $"{Name}: {ElementType.ToString().ToUpperInvariant()}[{string.Join(", ", Dims.Select(d => d < 0 ? "?" : d.ToString()))}]";
}

/// <summary>
/// One node with the shapes of its outputs for one input shape (for `nanocam layers`); null for an optional output
/// that nothing reads and so was not computed (a Dropout mask).
/// </summary>
public sealed record OnnxLayerInfo(string OpType, string Name, IReadOnlyList<string> Outputs, IReadOnlyList<int[]?> OutputShapes);

/// <summary>
/// An ONNX model imported onto NanoCam: float initializers become parameter tensors under their ONNX names, and
/// <see cref="Run(Tape, Tensor)"/> evaluates the graph node by node on the tape (so backward works through it),
/// publishing every node output under its ONNX name. For each input signature the graph is folded once first
/// (<see cref="GraphFolder"/>): what depends only on shapes and constants becomes a constant, and a pass runs the rest.
/// </summary>
public sealed partial class OnnxModel
{
    private readonly Dictionary<string, Tensor> _parameters;
    private readonly Dictionary<string, OnnxValue> _constants;
    private readonly Dictionary<string, OnnxNode> _producers = [];
    // Every initializer as a graph value, built once and shared by every pass.
    private readonly Dictionary<string, OnnxValue> _initializerValues;
    // Graph inputs plus node outputs, numbered: the slots of one pass's environment.
    private readonly Dictionary<string, int> _slotOf = [];
    // Folded plans, newest first (a few input signatures: batch sizes, node-test inputs).
    private readonly List<GraphPlan> _plans = [];
    private const int PlanCacheSize = 8;
    // Parameters copied to device backends, with the parameter version they were copied at.
    private readonly ConditionalWeakTable<IKernels, StagedParameters> _stagedParameters = [];
    private readonly Lazy<BatchAnalysis> _batch;
    // The fusions a no-grad pass may make (Conv + BN + activation, convolutions written into their Concat, prepared weights).
    private readonly OnnxInferencePlan _inference;
    private readonly OnnxGeluFusion _gelus;
    // Each MatMul by a constant weight with the Add that alone reads its output (see InferenceMatMulBiasNode).
    private readonly Dictionary<OnnxNode, OnnxNode> _matMulBias = [];
    private int _parameterVersion;
    // The file's model with the float initializers' data dropped (the parameters hold it): what export writes back.
    private readonly ModelProto _proto;
    // The element type each float initializer had in the file.
    private readonly Dictionary<string, OnnxDataType> _floatTypes;

    private OnnxModel(string source, ModelProto model, IReadOnlyList<OnnxNode> nodes, Dictionary<string, Tensor> parameters, Dictionary<string, OnnxDataType> floatTypes,
        Dictionary<string, OnnxValue> constants, IReadOnlyList<OnnxGraphInput> inputs, IReadOnlyList<string> outputs)
    {
        Source = source;
        _proto = model;
        _floatTypes = floatTypes;
        IrVersion = model.IrVersion;
        ProducerName = model.ProducerName;
        GraphName = model.Graph.Name;
        // A key written twice keeps its last value, as onnx.helper.set_model_props would leave it.
        MetadataProps = model.MetadataProps.GroupBy(e => e.Key).ToDictionary(g => g.Key, g => g.Last().Value);
        Opset = (int)(model.OpsetImport.FirstOrDefault(o => o.Domain is "" or "ai.onnx")?.Version ?? 1);
        Nodes = nodes;
        _parameters = parameters;
        _constants = constants;
        Inputs = inputs;
        OutputNames = outputs;
        foreach (var node in nodes)
            foreach (var output in node.Outputs)
                if (output.Length > 0) _producers[output] = node;
        _initializerValues = new Dictionary<string, OnnxValue>(constants);
        foreach (var (name, p) in parameters) _initializerValues[name] = OnnxValue.FromTensor(p, floatTypes.GetValueOrDefault(name, OnnxDataType.Float));
        OutputBeforeSoftmax = FindOutputBeforeSoftmax();
        foreach (var input in inputs) _slotOf.TryAdd(input.Name, _slotOf.Count);
        foreach (var node in nodes)
            foreach (var output in node.Outputs)
                if (output.Length > 0) _slotOf.TryAdd(output, _slotOf.Count);
        _inference = new OnnxInferencePlan(this);
        var patterns = new OnnxFusionPatterns(this);
        _gelus = new OnnxGeluFusion(patterns);
        // MatMul by a constant [K, N] weight whose only reader is an Add (of a bias, checked per pass): one node in a fused no-grad pass.
        foreach (var node in nodes)
            if (node is { OpType: "MatMul", Domain: "" or "ai.onnx", Inputs.Count: 2 } && _parameters.TryGetValue(node.Inputs[1], out var weight) && weight.Shape.Rank == 2
                && patterns.OnlyReader(node.Outputs[0]) is { OpType: "Add", Domain: "" or "ai.onnx", Opset: >= 7, Inputs.Count: 2 } add && add.Inputs[0] != add.Inputs[1])
                _matMulBias[node] = add;
        _batch = new Lazy<BatchAnalysis>(() => BatchAnalysis.Of(this));
    }

    /// <summary>Every operator of the default ONNX domain NanoCam imports, sorted (the registry's list).</summary>
    public static IReadOnlyList<string> SupportedOperators => OnnxOperatorRegistry.OpTypes;

    /// <summary>The newest default-domain opset NanoCam knows.</summary>
    public static int NewestOpset => OnnxOperatorRegistry.NewestOpset;

    /// <summary>The file (or label) the model was read from.</summary>
    public string Source { get; }
    public long IrVersion { get; }
    public string ProducerName { get; }
    public string GraphName { get; }

    /// <summary>Opset version of the default (ai.onnx) domain.</summary>
    public int Opset { get; }

    /// <summary>The nodes in execution order.</summary>
    public IReadOnlyList<OnnxNode> Nodes { get; }

    /// <summary>Graph inputs that are not initializers: what <see cref="Run(Tape, Tensor)"/> must be given.</summary>
    public IReadOnlyList<OnnxGraphInput> Inputs { get; }

    public IReadOnlyList<string> OutputNames { get; }

    /// <summary>The model's <c>metadata_props</c> (key → value) as the exporter wrote them: preprocessing hints, labels, authorship.</summary>
    public IReadOnlyDictionary<string, string> MetadataProps { get; }

    /// <summary>
    /// Float initializers as parameter tensors, keyed (and named) by their ONNX names. No-grad passes prepare (pack)
    /// convolution weights once and reuse them: after changing a parameter's values in place, call
    /// <see cref="ParametersChanged"/> (a pass with gradients on trainable parameters, and <see cref="SetTrainable"/>, count as one).
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> Parameters => _parameters;

    /// <summary>
    /// Whether no-grad passes run through the inference plan (on by default): BatchNormalization folded into the Conv
    /// before it, the activation after it fused into its epilogue, concat inputs written in place, squeeze-excitation
    /// scales applied in place, weights prepared once, LayerNormalization in one kernel where the backend has one (see
    /// <see cref="Fusions"/>); in every pass, exported GELU chains run as one Gelu node (<see cref="OnnxGeluFusion"/>).
    /// Off (<c>--no-fuse</c>), every node runs as its plain taped operator, for teaching and
    /// for checking the rewrites against the unoptimized graph.
    /// </summary>
    public bool Fuse { get; set; } = true;

    /// <summary>What a no-grad pass folds when fusing is on and the tape observes none of the tensors fused away.</summary>
    public OnnxFusionSummary Fusions => _inference.Summary with { GeluChains = _gelus.Count };

    /// <summary>Moves whenever the parameters may have changed; weights prepared at an older version are prepared again.</summary>
    public int ParameterVersion => Volatile.Read(ref _parameterVersion);

    /// <summary>Says that parameter values changed (edited in place, loaded, stepped by an optimizer), so prepared weights are stale.</summary>
    public void ParametersChanged() => Interlocked.Increment(ref _parameterVersion);

    /// <summary>
    /// When the first graph output is computed by a Softmax, the name of that Softmax's input (the class scores
    /// before normalization, which CAM and Grad-CAM differentiate); otherwise null.
    /// </summary>
    public string? OutputBeforeSoftmax { get; }

    /// <summary>The PyTorch module paths found in the node names, with the tensor each module outputs.</summary>
    public OnnxModulePaths ModulePaths => _modulePaths ??= new OnnxModulePaths(Nodes);
    private OnnxModulePaths? _modulePaths;

    /// <summary>Whether <paramref name="name"/> is a graph input or a node output.</summary>
    public bool HasTensor(string name) => _producers.ContainsKey(name) || Inputs.Any(i => i.Name == name);

    /// <summary>
    /// The tensor a user's layer name refers to: an ONNX tensor name as it is, or a PyTorch module path (<c>layer4.2</c>)
    /// as that module's output; null when it is neither.
    /// </summary>
    public string? ResolveLayer(string layer) => HasTensor(layer) ? layer : ModulePaths.OutputOf(layer);

    /// <summary>
    /// The default target layer of CAM methods: the last four-dimensional tensor with more than one channel and more than
    /// one spatial cell (C &gt; 1, H·W &gt; 1) on the path from the input to <paramref name="scores"/>, in execution order —
    /// in a CNN, the feature map that global pooling (or the flatten before the classifier) reads. A pooled vector laid
    /// out channels-last for a LayerNorm ([N,1,1,C], ConvNeXt's classifier) is not a map. Null when there is none (a transformer).
    /// </summary>
    public string? DefaultCamLayer(string scores)
    {
        var plan = ShapePlan(DeclaredInputDims());
        var ancestors = new HashSet<string>();
        var stack = new Stack<string>([scores]);
        while (stack.Count > 0)
        {
            var name = stack.Pop();
            if (!ancestors.Add(name) || Producer(name) is not { } node) continue;
            foreach (var input in node.Inputs) if (input.Length > 0) stack.Push(input);
        }
        string? best = null;
        foreach (var node in plan.LiveNodes)
            foreach (var output in node.Outputs)
                if (ancestors.Contains(output) && plan.Dims.TryGetValue(output, out var d) && d.Length == 4 && d[1] > 1 && d[2] * d[3] > 1) best = output;
        return best;
    }

    /// <summary>The node that computes <paramref name="tensorName"/>, or null for inputs and initializers.</summary>
    public OnnxNode? Producer(string tensorName) => _producers.GetValueOrDefault(tensorName);

    /// <summary>The nodes that read <paramref name="tensorName"/>.</summary>
    public IEnumerable<OnnxNode> Consumers(string tensorName) => Nodes.Where(n => n.Inputs.Contains(tensorName));

    /// <summary>The initializer named <paramref name="name"/> (float parameter or integer constant), or null.</summary>
    public OnnxValue? Initializer(string name) =>
        _parameters.TryGetValue(name, out var t) ? OnnxValue.FromTensor(t) : _constants.GetValueOrDefault(name);

    /// <summary>
    /// On a tape with <see cref="Tape.Training"/> set: true (the default) makes BatchNormalization normalize with the
    /// batch's statistics and update the running ones in place (momentum from the node's attribute); false keeps the
    /// running statistics, frozen batch norm. Dropout drops on such a tape either way; other tapes are not affected.
    /// </summary>
    public bool BatchStatisticsInTraining { get; set; } = true;

    /// <summary>Marks every parameter as trainable (or frozen, the default after loading).</summary>
    public void SetTrainable(bool trainable)
    {
        foreach (var p in _parameters.Values) p.RequiresGrad = trainable;
        ParametersChanged();
    }

    /// <summary>Reads, parses and validates an .onnx file; FLOAT16 initializers are widened to float32.</summary>
    public static OnnxModel Load(string path)
    {
        // Parsed from a memory-mapped view of the file, not from a copy of it on the heap: with the raw data of each
        // initializer released once it is decoded, a model's weights are held at most twice while it loads.
        long length;
        // A symbolic link's own length is that of the path it holds: the file's is the final target's.
        try { length = new FileInfo(path) is var info && info.ResolveLinkTarget(returnFinalTarget: true) is FileInfo target ? target.Length : info.Length; }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { throw new FileNotFoundException($"ONNX model file could not be read: {path}", path); }
        if (!File.Exists(path)) throw new FileNotFoundException($"ONNX model file not found: {path}", path);
        if (length == 0) throw new InvalidDataException($"{path}: not a valid ONNX model, the file is empty");
        if (length > int.MaxValue) throw new NotSupportedException($"{path} is {length >> 20} MiB; a model over 2 GiB must keep its weights as external data beside it");
        ModelProto model;
        using (var file = System.IO.MemoryMappedFiles.MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, System.IO.MemoryMappedFiles.MemoryMappedFileAccess.Read))
        using (var view = file.CreateViewAccessor(0, length, System.IO.MemoryMappedFiles.MemoryMappedFileAccess.Read))
        {
            unsafe
            {
                byte* start = null;
                view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
                try { model = ModelProto.Parser.ParseFrom(new ReadOnlySpan<byte>(start + view.PointerOffset, (int)length)); }
                catch (InvalidProtocolBufferException ex) { throw Corrupted(path, ex); }
                finally { view.SafeMemoryMappedViewHandle.ReleasePointer(); }
            }
        }
        return Build(Checked(model, path), path, Path.GetDirectoryName(Path.GetFullPath(path)));
    }

    private static InvalidDataException Corrupted(string source, InvalidProtocolBufferException ex) =>
        new($"{source}: not a valid ONNX model, the file is truncated or corrupted", ex);

    private static ModelProto Checked(ModelProto model, string source) =>
        model.Graph is null || model.Graph.Node.Count == 0 || model.Graph.Output.Count == 0
            ? throw new InvalidDataException($"{source}: not a valid ONNX model (no graph, nodes or outputs; the file may be truncated or corrupted)")
            : model;

    /// <summary>Parses and validates a serialized ModelProto; <paramref name="source"/> names it in errors, <paramref name="baseDirectory"/> resolves external data.</summary>
    public static OnnxModel Load(byte[] bytes, string source = "<memory>", string? baseDirectory = null)
    {
        ModelProto model;
        try { model = ModelProto.Parser.ParseFrom(bytes); }
        catch (InvalidProtocolBufferException ex) { throw Corrupted(source, ex); }
        return Build(Checked(model, source), source, baseDirectory);
    }

    private static OnnxModel Build(ModelProto model, string source, string? baseDirectory)
    {
        var graph = model.Graph;
        var opsets = new Dictionary<string, int>();
        foreach (var o in model.OpsetImport) opsets[o.Domain is "ai.onnx" ? "" : o.Domain] = (int)o.Version;
        if (model.OpsetImport.Count == 0) opsets[""] = 1;
        if (opsets.GetValueOrDefault("", 1) is var defaultOpset && defaultOpset > OnnxOperatorRegistry.NewestOpset)
            throw new NotSupportedException($"{source}: opset {defaultOpset} of the default ONNX domain is newer than NanoCam knows (up to {OnnxOperatorRegistry.NewestOpset})");

        var parameters = new Dictionary<string, Tensor>();
        // The element type each float initializer had in the file (FLOAT16 weights are held widened, but CastLike reads it).
        var floatTypes = new Dictionary<string, OnnxDataType>();
        var constants = new Dictionary<string, OnnxValue>();
        foreach (var init in graph.Initializer)
        {
            OnnxValue value;
            try { value = OnnxTensors.Decode(init, baseDirectory, source); }
            catch (NotSupportedException ex) { throw new NotSupportedException($"{source}: initializer '{DisplayText.Quote(init.Name)}': {ex.Message}", ex); }
            if (value.IsFloat)
            {
                // The decoded value holds the data now; dropping the encoded bytes keeps the weights in memory once, not twice.
                // (Integer constants keep theirs: they are small, and export writes them back as they were.)
                init.ClearRawData();
                init.FloatData.Clear();
                init.DoubleData.Clear();
                init.Int32Data.Clear();
                var t = value.Tensor!;
                var parameter = new Tensor(t.Shape, t.Buffer) { Name = init.Name, IsParameter = true, RequiresGrad = false };
                parameters[init.Name] = parameter;
                floatTypes[init.Name] = value.ElementType;
            }
            else constants[init.Name] = value;
        }

        var inputs = new List<OnnxGraphInput>();
        foreach (var vi in graph.Input)
        {
            if (parameters.ContainsKey(vi.Name) || constants.ContainsKey(vi.Name)) continue;
            inputs.Add(GraphInput(vi, source));
        }

        // Check every node: a known operator at a known opset, and inputs defined before use (ONNX requires topological order).
        var defined = new HashSet<string>(parameters.Keys.Concat(constants.Keys).Concat(inputs.Select(i => i.Name)));
        var nodes = new List<OnnxNode>();
        for (int i = 0; i < graph.Node.Count; i++)
        {
            var proto = graph.Node[i];
            var domain = proto.Domain is "ai.onnx" ? "" : proto.Domain;
            int opset = opsets.GetValueOrDefault(domain, domain == "" ? opsets.GetValueOrDefault("", 1) : 0);
            var node = new OnnxNode(proto, i, opset);
            var op = domain == "" ? OnnxOperatorRegistry.Find(node.OpType) : null;
            if (op is null)
                throw new NotSupportedException($"unsupported ONNX operator {(domain == "" ? "" : DisplayText.Quote(domain) + ".")}{DisplayText.Quote(node.OpType)} (node {DisplayText.Quote(node.Name)}, opset {opset})");
            if (opset < op.SinceOpset)
                throw new NotSupportedException($"ONNX node {DisplayText.Quote(node.Name)} ({node.OpType}) is written for opset {opset}; NanoCam implements {node.OpType} from opset {op.SinceOpset} on");
            foreach (var input in node.Inputs)
                if (input.Length > 0 && !defined.Contains(input))
                    throw new InvalidDataException($"{source}: node {DisplayText.Quote(node.Name)} ({node.OpType}) reads '{DisplayText.Quote(input)}', which no earlier node, input or initializer defines (corrupted or unsorted graph)");
            foreach (var output in node.Outputs) if (output.Length > 0) defined.Add(output);
            nodes.Add(node);
        }
        var outputs = graph.Output.Select(o => o.Name).ToList();
        foreach (var o in outputs)
            if (!defined.Contains(o)) throw new InvalidDataException($"{source}: graph output '{DisplayText.Quote(o)}' is never computed");
        var read = new HashSet<string>(nodes.SelectMany(n => n.Inputs).Concat(outputs));
        foreach (var node in nodes) node.MarkUsedOutputs(read);
        return new OnnxModel(source, model, nodes, parameters, floatTypes, constants, inputs, outputs);
    }

    /// <summary>A graph input's declared element type and dimensions (−1 for symbolic or missing sizes); sequences and optionals by their element type.</summary>
    private static OnnxGraphInput GraphInput(ValueInfoProto vi, string source)
    {
        var type = vi.Type;
        var kind = OnnxValueKind.Tensor;
        while (type is not null)
        {
            if (type.SequenceType is { } sequence) { kind = OnnxValueKind.Sequence; type = sequence.ElemType; }
            else if (type.OptionalType is { } optional) { kind = kind == OnnxValueKind.Tensor ? OnnxValueKind.None : kind; type = optional.ElemType; }
            else break;
        }
        var tt = type?.TensorType;
        var dims = tt?.Shape?.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? (int)Math.Clamp(d.DimValue, -1, int.MaxValue) : -1).ToArray() ?? [];
        foreach (var d in tt?.Shape?.Dim ?? [])
            if (d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && (d.DimValue < 0 || d.DimValue > MaxDimension))
                throw new InvalidDataException($"{source}: graph input '{DisplayText.Quote(vi.Name)}' declares a dimension of {d.DimValue} (NanoCam takes up to {MaxDimension})");
        return new OnnxGraphInput(vi.Name, (OnnxDataType)(tt?.ElemType ?? 1), dims) { Container = kind };
    }

    /// <summary>The largest dimension a graph input may declare.</summary>
    public const int MaxDimension = 1 << 24;

    /// <summary>Runs the graph on its single float input and returns the first output.</summary>
    public Tensor Run(Tape tape, Tensor input)
    {
        if (Inputs.Count != 1)
            throw new ArgumentException($"{Source} has {Inputs.Count} inputs ({string.Join(", ", Inputs.Select(i => i.Name))}); pass them by name");
        var state = StateOf(tape);
        var inputs = state.Inputs;
        inputs.Clear();
        inputs[Inputs[0].Name] = OnnxValue.FromTensor(input);
        var first = Evaluate(tape, inputs, Fuse, state)[OutputNames[0]];
        return first.Tensor ?? throw new InvalidOperationException($"output '{OutputNames[0]}' is {first}, not a float tensor; use the dictionary overload");
    }

    /// <summary>
    /// Runs the graph; returns every graph output by name. The caller owns the tape (call <see cref="Tape.Reset"/>
    /// between passes); every node output is published on it under its ONNX name.
    /// </summary>
    public IReadOnlyDictionary<string, OnnxValue> Run(Tape tape, IReadOnlyDictionary<string, OnnxValue> inputs) =>
        new Dictionary<string, OnnxValue>(Evaluate(tape, inputs, Fuse, StateOf(tape)));

    /// <summary>
    /// What the passes on one tape reuse from pass to pass: the value environment, the argument lists, the operator
    /// context, the inference plan's per-pass decisions. A tape runs one pass at a time, so its state is its own.
    /// </summary>
    private sealed class PassState(OnnxModel model, Tape tape)
    {
        public readonly PassValues Env = new(model._slotOf);
        public readonly Dictionary<string, OnnxValue> Inputs = new(model.Inputs.Count);
        public readonly Dictionary<string, OnnxValue> Outputs = new(model.OutputNames.Count);
        public readonly List<OnnxValue?> Args = [];
        public readonly List<OnnxValue?> HostValues = [];
        public OnnxOperatorContext? Context;
        public readonly OnnxInferencePlan.Pass Plan = model._inference.NewPass(tape, model);
        public readonly int[] Gelus = model._gelus.NewPassState();
        /// <summary>Per step of the plan: skipped in this pass (an Add whose MatMul ran with it as one node).</summary>
        public bool[] Skip = [];
    }

    private readonly ConditionalWeakTable<Tape, PassState> _passStates = [];

    /// <summary>Diagnostics: told, for each node a pass runs, the bytes its step allocated (tests find a pass's allocations with it).</summary>
    internal static Action<OnnxNode, long>? AllocationProbe { get; set; }

    private PassState StateOf(Tape tape)
    {
        if (_passStates.TryGetValue(tape, out var state)) return state;
        state = new PassState(this, tape);
        _passStates.AddOrUpdate(tape, state);
        return state;
    }

    /// <summary>
    /// The class scores: the input of the final Softmax when there is one (see <see cref="OutputBeforeSoftmax"/>),
    /// else the first output; seen as [N, classes].
    /// </summary>
    public Tensor Scores(Tape tape, Tensor input)
    {
        var output = Run(tape, input);
        var scores = OutputBeforeSoftmax is null ? output : tape.Find(OutputBeforeSoftmax);
        return scores.Shape.Rank > 2 ? tape.Flatten(scores, 1) : scores;
    }

    /// <summary>
    /// Every node with its output shapes for a single input of <paramref name="inputDims"/> (the declared shape, unknown
    /// sizes as 1, when null), read from the folded graph: nothing is computed.
    /// </summary>
    public IReadOnlyList<OnnxLayerInfo> DescribeLayers(int[]? inputDims = null)
    {
        var plan = ShapePlan(inputDims ?? DeclaredInputDims());
        return Nodes.Select(node => new OnnxLayerInfo(node.OpType, node.Name, node.Outputs,
            node.Outputs.Select(o => plan.Dims.GetValueOrDefault(o)).ToArray())).ToList();
    }

    /// <summary>The single input's declared dimensions with unknown sizes as 1.</summary>
    public int[] DeclaredInputDims()
    {
        if (Inputs.Count != 1) throw new ArgumentException($"{Source} has {Inputs.Count} inputs; this needs exactly one");
        return Inputs[0].Dims.Select(d => d < 0 ? 1 : d).ToArray();
    }

    /// <summary>The graph folded for a single float input of <paramref name="inputDims"/>, from shapes alone.</summary>
    internal GraphPlan ShapePlan(int[] inputDims)
    {
        if (Inputs.Count != 1) throw new ArgumentException($"{Source} has {Inputs.Count} inputs; this needs exactly one");
        var input = OnnxValue.FromTensor(ShapeOnlyKernels.Instance.Allocate(new Shape(inputDims)), Inputs[0].ElementType);
        return PlanFor(new Dictionary<string, OnnxValue> { [Inputs[0].Name] = input });
    }

    /// <summary>Whether a batch of N runs in one pass, and why (see <see cref="BatchAnalysis"/>).</summary>
    public BatchAnalysis Batch => _batch.Value;

    /// <summary>The largest batch one pass takes: any when the graph is batch-independent, else the declared batch size.</summary>
    public int MaxBatch => Batch.Independent ? int.MaxValue : Math.Max(1, Inputs.Count == 1 && Inputs[0].Dims.Count > 0 ? Inputs[0].Dims[0] : 1);

    /// <summary>The folded plan for these inputs' signature, from the cache or folded now.</summary>
    private GraphPlan PlanFor(IReadOnlyDictionary<string, OnnxValue> inputs)
    {
        lock (_plans)
        {
            foreach (var plan in _plans)
                if (plan.Matches(Inputs, inputs) ?? plan.Key == GraphFolder.KeyOf(Inputs, inputs, plan.KeyedInputs))
                {
                    _plans.Remove(plan);
                    _plans.Insert(0, plan);
                    return plan;
                }
            var folded = GraphFolder.Fold(this, inputs, _plans.FirstOrDefault()?.KeyedInputs);
            _plans.Insert(0, folded);
            if (_plans.Count > PlanCacheSize) _plans.RemoveAt(_plans.Count - 1);
            return folded;
        }
    }

    /// <summary>Runs one operator, naming the node in any error about the model's contents.</summary>
    internal static OnnxValue?[] RunOperator(OnnxOperator op, OnnxOperatorContext context)
    {
        var node = context.Node;
        try
        {
            return op.Run(context);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"ONNX node {DisplayText.Quote(node.Name)} ({node.OpType}, opset {node.Opset}): {ex.Message}", ex);
        }
        catch (InvalidOperationException ex) when (ex.Message.Contains("shape-only"))
        {
            throw new NotSupportedException($"ONNX node {DisplayText.Quote(node.Name)} ({node.OpType}, opset {node.Opset}) reads data values on the host, which folding cannot give it", ex);
        }
    }

    /// <summary>
    /// One pass. With <paramref name="fuse"/> a no-grad pass runs through <see cref="OnnxInferencePlan"/> (fused
    /// convolutions; tensors fused away are not published unless the tape observes them).
    /// </summary>
    private Dictionary<string, OnnxValue> Evaluate(Tape tape, IReadOnlyDictionary<string, OnnxValue> inputs, bool fuse, PassState state)
    {
        // Indexed loops throughout: a foreach over an IReadOnlyList boxes its enumerator, and a warm pass allocates nothing.
        for (int d = 0; d < Inputs.Count; d++)
        {
            var declared = Inputs[d];
            if (!inputs.TryGetValue(declared.Name, out var value))
                throw new ArgumentException($"{Source}: graph input '{declared.Name}' {declared} was not given");
            CheckInputShape(declared, value, Batch.Independent);
        }
        // Every declared input was given, so only a larger dictionary can hold a name that is not an input.
        if (inputs.Count != Inputs.Count)
            foreach (var name in inputs.Keys)
                if (!Inputs.Any(i => i.Name == name))
                    throw new ArgumentException($"{Source}: '{name}' is not a graph input (inputs: {string.Join(", ", Inputs.Select(i => i.Name))})");

        var graph = PlanFor(inputs);
        // A pass that may train the parameters makes weights prepared before it stale.
        if (tape.GradEnabled && tape.ParameterGradients && AnyTrainable()) ParametersChanged();
        var plan = fuse && !tape.GradEnabled ? _inference.Begin(state.Plan) : null;
        Array.Clear(state.Gelus);
        var kernels = tape.Kernels;
        bool batchStatistics = tape.Training && BatchStatisticsInTraining;
        var env = state.Env;
        env.Clear();
        for (int d = 0; d < Inputs.Count; d++)
        {
            var declared = Inputs[d];
            var value = graph.Known.ContainsKey(declared.Name) ? graph.StagedKnown(declared.Name, kernels) : inputs[declared.Name];
            env[declared.Name] = value;
            if (value.Tensor is { } t) tape.Publish(t, declared.Name);
        }

        var (args, hostValues) = (state.Args, state.HostValues);
        var liveNodes = graph.LiveNodes;
        var steps = graph.Steps ??= StepsOf(graph);
        bool onHost = kernels.AllocatesOnHost();
        var slots = env.Slots;
        var probe = AllocationProbe;
        if (state.Skip.Length != steps.Length) state.Skip = new bool[steps.Length];
        else Array.Clear(state.Skip);
        var skip = state.Skip;
        long mark = probe is null ? 0 : GC.GetAllocatedBytesForCurrentThread();
        for (int n = 0; n < liveNodes.Count; n++)
        {
            if (probe is not null && n > 0)
            {
                long now = GC.GetAllocatedBytesForCurrentThread();
                probe(liveNodes[n - 1], now - mark);
                mark = GC.GetAllocatedBytesForCurrentThread();
            }
            if (skip[n]) continue;
            var step = steps[n];
            var node = step.Node;
            args.Clear();
            hostValues.Clear();
            var sources = step.Sources;
            var hosts = step.Host;
            for (int a = 0; a < sources.Length; a++)
            {
                switch (sources[a])
                {
                    case InputSource.Omitted:
                        args.Add(null);
                        hostValues.Add(null);
                        break;
                    case InputSource.Known:
                    {
                        var known = hosts[a]!;
                        args.Add(known.Tensor is { } kt && kt.IsOnHost != onHost ? graph.StagedKnown(node.Inputs[a], kernels) : known);
                        hostValues.Add(known);
                        break;
                    }
                    case InputSource.Initializer:
                    {
                        var initializer = hosts[a];
                        args.Add(initializer is null || onHost || initializer.Tensor is null ? initializer : StagedInitializer(node.Inputs[a], initializer, kernels));
                        hostValues.Add(initializer);
                        break;
                    }
                    default:
                        var value = step.Slots[a] is var slot and >= 0 ? slots[slot] : env.TryGetValue(node.Inputs[a], out var named) ? named : null;
                        if (value is not null)
                        {
                            args.Add(value);
                            hostValues.Add(hosts[a]);
                        }
                        else ResolveByName(node.Inputs[a], graph, kernels, args, hostValues);
                        break;
                }
            }
            if (fuse && step.Gelu && _gelus.TryRun(node, state.Gelus, tape, env)) continue;
            if (plan is not null && step.Fusable && plan.TryRun(node, args, out var fusedName, out var fused, out bool publish))
            {
                if (fusedName is null || fused is null) continue;
                env[fusedName] = fused;
                if (publish && fused.Tensor is { } ft) tape.Publish(ft, fusedName);
                continue;
            }
            if (plan is not null && step.BiasAdd >= 0 && onHost && TryMatMulBias(tape, step, steps[step.BiasAdd], args, slots))
            {
                skip[step.BiasAdd] = true;
                continue;
            }
            var context = state.Context ??= new OnnxOperatorContext(tape, node, args, hostValues);
            context.MoveTo(node, args, hostValues);
            context.BatchStatistics = batchStatistics;
            context.Fuse = fuse;
            var results = RunOperator(step.Operator!, context);
            var outputSlots = step.OutputSlots;
            for (int i = 0; i < outputSlots.Length && i < results.Length; i++)
            {
                if (outputSlots[i] < 0 || results[i] is not { } value) continue;
                slots[outputSlots[i]] = value;
                if (value.Tensor is { } t) tape.Publish(t, node.Outputs[i]);
            }
        }
        if (probe is not null && liveNodes.Count > 0) probe(liveNodes[liveNodes.Count - 1], GC.GetAllocatedBytesForCurrentThread() - mark);
        var outputs = state.Outputs;
        outputs.Clear();
        for (int o = 0; o < OutputNames.Count; o++)
        {
            var name = OutputNames[o];
            outputs[name] = env.TryGetValue(name, out var value) ? value
                : graph.Known.ContainsKey(name) ? graph.StagedKnown(name, kernels)
                : StagedInitializer(name, InitializerValue(name, out _)!, kernels);
        }
        return outputs;
    }

    /// <summary>
    /// A MatMul and the Add of a bias that alone reads it, run as one <see cref="InferenceMatMulBiasNode"/> when the
    /// MatMul's output is not observed, x is a float tensor whose last axis is the weight's K, and the bias (a host value
    /// known at fold time) is N values along the last axis; the result goes under the Add's output name.
    /// </summary>
    private static bool TryMatMulBias(Tape tape, PassStep step, PassStep addStep, List<OnnxValue?> args, OnnxValue?[] slots)
    {
        if (args[0] is not { ElementType: OnnxDataType.Float, Tensor: { } x } || args[1]?.Tensor is not { Shape.Rank: 2 } w) return false;
        // The bias as the Add would read it: a host value, or what the pass computed (an Identity of a parameter).
        int side = step.BiasSide;
        var biasValue = addStep.Sources[side] == InputSource.Pass ? slots[addStep.Slots[side]] : addStep.Host[side];
        if (biasValue is not { ElementType: OnnxDataType.Float, Tensor: { IsOnHost: true } bias }) return false;
        int rank = x.Shape.Rank, n = w.Shape[1];
        if (rank < 1 || x.Shape[rank - 1] != w.Shape[0] || bias.Shape.Rank < 1 || bias.Shape.Rank > rank || bias.Shape[bias.Shape.Rank - 1] != n || bias.Size != n) return false;
        if (tape.IsObserved(step.Node.Outputs[0])) return false;
        var add = addStep.Node;
        var y = tape.Next<InferenceMatMulBiasNode>().Forward(tape, x, w, bias);
        var value = OnnxValue.FromTensor(y);
        if (addStep.OutputSlots[0] >= 0) slots[addStep.OutputSlots[0]] = value;
        tape.Publish(y, add.Outputs[0]);
        return true;
    }

    /// <summary>A value the environment does not hold (a tensor fused away): a known value, an initializer, or null.</summary>
    private void ResolveByName(string name, GraphPlan graph, IKernels kernels, List<OnnxValue?> args, List<OnnxValue?> hostValues)
    {
        if (graph.Known.TryGetValue(name, out var known))
        {
            args.Add(graph.StagedKnown(name, kernels));
            hostValues.Add(known);
            return;
        }
        // An initializer; a tensor fused away in this pass has no value, and only the plan's own steps read one.
        var initializer = InitializerValue(name, out _);
        args.Add(initializer is null ? null : StagedInitializer(name, initializer, kernels));
        hostValues.Add(initializer);
    }

    /// <summary>
    /// The plan's live nodes with their operators and the source of each input resolved once, so that a pass indexes
    /// arrays where it would hash names: values the pass computes (graph inputs, live outputs) are read from its
    /// environment, folded values and initializers are taken as they are.
    /// </summary>
    private PassStep[] StepsOf(GraphPlan graph)
    {
        var computed = new HashSet<string>();
        for (int d = 0; d < Inputs.Count; d++) computed.Add(Inputs[d].Name);
        foreach (var node in graph.LiveNodes)
            foreach (var output in node.Outputs)
                if (output.Length > 0) computed.Add(output);
        var steps = new PassStep[graph.LiveNodes.Count];
        for (int n = 0; n < steps.Length; n++)
        {
            var node = graph.LiveNodes[n];
            var sources = new InputSource[node.Inputs.Count];
            var host = new OnnxValue?[node.Inputs.Count];
            for (int a = 0; a < sources.Length; a++)
            {
                var name = node.Inputs[a];
                if (name.Length == 0) sources[a] = InputSource.Omitted;
                else if (computed.Contains(name)) (sources[a], host[a]) = (InputSource.Pass, graph.Known.GetValueOrDefault(name));
                else if (graph.Known.TryGetValue(name, out var known)) (sources[a], host[a]) = (InputSource.Known, known);
                else if (_initializerValues.TryGetValue(name, out var initializer)) (sources[a], host[a]) = (InputSource.Initializer, initializer);
                // Anything else (an output of a folded node the plan does not hold) is looked up by name as it always was.
                else sources[a] = InputSource.Pass;
            }
            var inputSlots = new int[sources.Length];
            for (int a = 0; a < sources.Length; a++) inputSlots[a] = sources[a] == InputSource.Pass ? _slotOf.GetValueOrDefault(node.Inputs[a], -1) : -1;
            var outputSlots = new int[node.Outputs.Count];
            for (int i = 0; i < outputSlots.Length; i++) outputSlots[i] = node.Outputs[i].Length > 0 ? _slotOf[node.Outputs[i]] : -1;
            steps[n] = new PassStep(node, OnnxOperatorRegistry.Find(node.OpType), sources, host, inputSlots, outputSlots, _gelus.Covers(node), _inference.Covers(node));
        }
        // A MatMul fuses its bias Add when the Add is live and its other input a host value (an initializer or folded)
        // or a value with a slot (computed earlier in the pass: an Identity of a parameter); the pass checks its shape.
        if (_matMulBias.Count > 0)
        {
            var index = new Dictionary<OnnxNode, int>();
            for (int n = 0; n < steps.Length; n++) index[steps[n].Node] = n;
            for (int n = 0; n < steps.Length; n++)
            {
                if (!_matMulBias.TryGetValue(steps[n].Node, out var add) || !index.TryGetValue(add, out int a) || a <= n) continue;
                int side = add.Inputs[0] == steps[n].Node.Outputs[0] ? 1 : 0;
                if (steps[a].Sources[side] is InputSource.Known or InputSource.Initializer && steps[a].Host[side]?.Tensor is not null
                    || steps[a].Sources[side] == InputSource.Pass && steps[a].Slots[side] >= 0)
                    (steps[n].BiasAdd, steps[n].BiasSide) = (a, side);
            }
        }
        return steps;
    }

    private bool AnyTrainable()
    {
        foreach (var p in _parameters.Values)
            if (p.RequiresGrad) return true;
        return false;
    }

    /// <summary>An initializer as a host value, and whether it is a (float, trainable) parameter; null for other names.</summary>
    internal OnnxValue? InitializerValue(string name, out bool isParameter)
    {
        isParameter = _parameters.ContainsKey(name);
        return _initializerValues.GetValueOrDefault(name);
    }

    /// <summary>Parameters copied to one device backend, at one parameter version.</summary>
    private sealed class StagedParameters
    {
        public int Version = -1;
        public readonly Dictionary<string, OnnxValue> Values = [];
    }

    /// <summary>An initializer on the pass's backend: itself on the host, a copy (kept until the parameters change) on a device.</summary>
    private OnnxValue StagedInitializer(string name, OnnxValue value, IKernels kernels)
    {
        if (value.Tensor is not { } tensor || kernels.AllocatesOnHost()) return value;
        var staged = _stagedParameters.GetOrCreateValue(kernels);
        lock (staged)
        {
            if (staged.Version != ParameterVersion) { staged.Values.Clear(); staged.Version = ParameterVersion; }
            if (!staged.Values.TryGetValue(name, out var copy))
            {
                var device = kernels.Stage(tensor);
                var parameter = new Tensor(device.Shape, device.Buffer) { Name = name, IsParameter = tensor.IsParameter, RequiresGrad = tensor.RequiresGrad };
                staged.Values[name] = copy = OnnxValue.FromTensor(parameter, value.ElementType);
            }
            return copy;
        }
    }

    private static void CheckInputShape(OnnxGraphInput declared, OnnxValue value, bool anyBatch)
    {
        if (declared.Container != OnnxValueKind.Tensor || value.Kind is OnnxValueKind.Sequence or OnnxValueKind.None) return;
        var dims = value.Dims;
        bool ok = declared.Dims.Count == 0 || dims.Length == declared.Dims.Count;
        for (int i = 0; ok && i < declared.Dims.Count; i++)
            if (declared.Dims[i] >= 0 && declared.Dims[i] != dims[i] && !(i == 0 && anyBatch)) ok = false;
        if (!ok)
            throw new ArgumentException($"graph input '{declared.Name}' has shape [{string.Join(", ", dims)}] but the model expects [{string.Join(", ", declared.Dims.Select(d => d < 0 ? "?" : d.ToString()))}]");
        if (!value.IsFloat && declared.ElementType.IsFloatingPoint())
            throw new ArgumentException($"graph input '{declared.Name}' expects a float tensor but was given {value}");
    }

    private string? FindOutputBeforeSoftmax()
    {
        var node = Producer(OutputNames[0]);
        // Look through trailing shape-only nodes (a Softmax followed by Flatten/Reshape still ends the network).
        while (node is not null && node.OpType is "Flatten" or "Reshape" or "Identity" or "Squeeze")
            node = Producer(node.Inputs[0]);
        return node?.OpType == "Softmax" ? node.Inputs[0] : null;
    }

    /// <summary>Finds the CAM head (GAP → linear classifier, or 1×1 conv classifier → GAP); null when there is none.</summary>
    public OnnxCamHead? FindCamHead() => OnnxCamHead.Find(this, out _);

    /// <summary>As <see cref="FindCamHead()"/>, with the reason when no head is found.</summary>
    public OnnxCamHead? FindCamHead(out string reason) => OnnxCamHead.Find(this, out reason);

    public override string ToString() => $"{Source}: graph '{GraphName}', IR {IrVersion}, opset {Opset}, {Nodes.Count} nodes, {_parameters.Count} parameters";
}
