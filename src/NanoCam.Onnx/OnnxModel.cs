using Google.Protobuf;
using NanoCam.Autodiff;
using NanoCam.Onnx.Protos;
using NanoCam.Ops;

namespace NanoCam.Onnx;

/// <summary>A graph input: its name, element type, and dimensions (-1 where the file gives a symbolic or no size).</summary>
public sealed record OnnxGraphInput(string Name, OnnxDataType ElementType, IReadOnlyList<int> Dims)
{
    public override string ToString() => $"{Name}: {ElementType.ToString().ToUpperInvariant()}[{string.Join(", ", Dims.Select(d => d < 0 ? "?" : d.ToString()))}]";
}

/// <summary>
/// One node with the shapes its outputs had in a forward pass (for `nanocam layers`); null for an optional output
/// that nothing reads and so was not computed (a Dropout mask).
/// </summary>
public sealed record OnnxLayerInfo(string OpType, string Name, IReadOnlyList<string> Outputs, IReadOnlyList<int[]?> OutputShapes);

/// <summary>
/// An ONNX model imported onto NanoCam: float initializers become parameter tensors under their ONNX names, and
/// <see cref="Run(Tape, Tensor)"/> evaluates the graph node by node on the tape (so backward works through it),
/// publishing every node output under its ONNX name. Integer shape arithmetic is folded on the host.
/// </summary>
public sealed class OnnxModel
{
    private readonly Dictionary<string, Tensor> _parameters;
    private readonly Dictionary<string, OnnxValue> _constants;
    private readonly Dictionary<string, OnnxNode> _producers = [];
    // Every initializer as a graph value, built once and shared by every pass.
    private readonly Dictionary<string, OnnxValue> _initializerValues;
    // Graph inputs plus node outputs: the size of one pass's environment.
    private readonly int _valueCount;
    // The fusions a no-grad pass may make (Conv + Relu, convolutions written into their Concat, prepared weights).
    private readonly OnnxInferencePlan _inference;
    private int _parameterVersion;

    private OnnxModel(string source, ModelProto model, IReadOnlyList<OnnxNode> nodes, Dictionary<string, Tensor> parameters,
        Dictionary<string, OnnxValue> constants, IReadOnlyList<OnnxGraphInput> inputs, IReadOnlyList<string> outputs)
    {
        Source = source;
        IrVersion = model.IrVersion;
        ProducerName = model.ProducerName;
        GraphName = model.Graph.Name;
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
        foreach (var (name, p) in parameters) _initializerValues[name] = OnnxValue.FromTensor(p);
        OutputBeforeSoftmax = FindOutputBeforeSoftmax();
        _valueCount = inputs.Count + nodes.Sum(n => n.Outputs.Count);
        _inference = new OnnxInferencePlan(this);
    }

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

    /// <summary>
    /// Float initializers as parameter tensors, keyed (and named) by their ONNX names. No-grad passes prepare (pack)
    /// convolution weights once and reuse them: after changing a parameter's values in place, call
    /// <see cref="ParametersChanged"/> (a pass with gradients on trainable parameters, and <see cref="SetTrainable"/>, count as one).
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> Parameters => _parameters;

    /// <summary>Moves whenever the parameters may have changed; weights prepared at an older version are prepared again.</summary>
    public int ParameterVersion => Volatile.Read(ref _parameterVersion);

    /// <summary>Says that parameter values changed (edited in place, loaded, stepped by an optimizer), so prepared weights are stale.</summary>
    public void ParametersChanged() => Interlocked.Increment(ref _parameterVersion);

    /// <summary>
    /// When the first graph output is computed by a Softmax, the name of that Softmax's input (the class scores
    /// before normalization, which CAM and Grad-CAM differentiate); otherwise null.
    /// </summary>
    public string? OutputBeforeSoftmax { get; }

    /// <summary>The node that computes <paramref name="tensorName"/>, or null for inputs and initializers.</summary>
    public OnnxNode? Producer(string tensorName) => _producers.GetValueOrDefault(tensorName);

    /// <summary>The nodes that read <paramref name="tensorName"/>.</summary>
    public IEnumerable<OnnxNode> Consumers(string tensorName) => Nodes.Where(n => n.Inputs.Contains(tensorName));

    /// <summary>The initializer named <paramref name="name"/> (float parameter or integer constant), or null.</summary>
    public OnnxValue? Initializer(string name) =>
        _parameters.TryGetValue(name, out var t) ? OnnxValue.FromTensor(t) : _constants.GetValueOrDefault(name);

    /// <summary>Marks every parameter as trainable (or frozen, the default after loading).</summary>
    public void SetTrainable(bool trainable)
    {
        foreach (var p in _parameters.Values) p.RequiresGrad = trainable;
        ParametersChanged();
    }

    /// <summary>Reads, parses and validates an .onnx file; FLOAT16 initializers are widened to float32.</summary>
    public static OnnxModel Load(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (FileNotFoundException) { throw new FileNotFoundException($"ONNX model file not found: {path}", path); }
        return Load(bytes, path, Path.GetDirectoryName(Path.GetFullPath(path)));
    }

    /// <summary>Parses and validates a serialized ModelProto; <paramref name="source"/> names it in errors, <paramref name="baseDirectory"/> resolves external data.</summary>
    public static OnnxModel Load(byte[] bytes, string source = "<memory>", string? baseDirectory = null)
    {
        ModelProto model;
        try { model = ModelProto.Parser.ParseFrom(bytes); }
        catch (InvalidProtocolBufferException ex)
        {
            throw new InvalidDataException($"{source}: not a valid ONNX model, the file is truncated or corrupted ({ex.Message})", ex);
        }
        if (model.Graph is null || model.Graph.Node.Count == 0 || model.Graph.Output.Count == 0)
            throw new InvalidDataException($"{source}: not a valid ONNX model (no graph, nodes or outputs; the file may be truncated or corrupted)");
        return Build(model, source, baseDirectory);
    }

    private static OnnxModel Build(ModelProto model, string source, string? baseDirectory)
    {
        var graph = model.Graph;
        var opsets = new Dictionary<string, int>();
        foreach (var o in model.OpsetImport) opsets[o.Domain is "ai.onnx" ? "" : o.Domain] = (int)o.Version;
        if (model.OpsetImport.Count == 0) opsets[""] = 1;

        var parameters = new Dictionary<string, Tensor>();
        var constants = new Dictionary<string, OnnxValue>();
        foreach (var init in graph.Initializer)
        {
            OnnxValue value;
            try { value = OnnxTensors.Decode(init, baseDirectory, source); }
            catch (NotSupportedException ex) { throw new NotSupportedException($"{source}: initializer '{init.Name}': {ex.Message}", ex); }
            if (value.IsFloat)
            {
                var t = value.Tensor!;
                var parameter = new Tensor(t.Shape, t.Buffer) { Name = init.Name, IsParameter = true, RequiresGrad = false };
                parameters[init.Name] = parameter;
            }
            else constants[init.Name] = value;
        }

        var inputs = new List<OnnxGraphInput>();
        foreach (var vi in graph.Input)
        {
            if (parameters.ContainsKey(vi.Name) || constants.ContainsKey(vi.Name)) continue;
            var tt = vi.Type?.TensorType;
            var dims = tt?.Shape?.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? (int)d.DimValue : -1).ToArray() ?? [];
            inputs.Add(new OnnxGraphInput(vi.Name, (OnnxDataType)(tt?.ElemType ?? 1), dims));
        }

        // Check every node: a known operator, and inputs defined before use (ONNX requires topological order).
        var defined = new HashSet<string>(parameters.Keys.Concat(constants.Keys).Concat(inputs.Select(i => i.Name)));
        var nodes = new List<OnnxNode>();
        for (int i = 0; i < graph.Node.Count; i++)
        {
            var proto = graph.Node[i];
            var domain = proto.Domain is "ai.onnx" ? "" : proto.Domain;
            int opset = opsets.GetValueOrDefault(domain, domain == "" ? opsets.GetValueOrDefault("", 1) : 0);
            var node = new OnnxNode(proto, i, opset);
            if (domain != "" || !OnnxOperators.IsSupported(node.OpType))
                throw new NotSupportedException($"unsupported ONNX operator {(domain == "" ? "" : domain + ".")}{node.OpType} (node {node.Name}, opset {opset})");
            foreach (var input in node.Inputs)
                if (input.Length > 0 && !defined.Contains(input))
                    throw new InvalidDataException($"{source}: node {node.Name} ({node.OpType}) reads '{input}', which no earlier node, input or initializer defines (corrupted or unsorted graph)");
            foreach (var output in node.Outputs) if (output.Length > 0) defined.Add(output);
            nodes.Add(node);
        }
        var outputs = graph.Output.Select(o => o.Name).ToList();
        foreach (var o in outputs)
            if (!defined.Contains(o)) throw new InvalidDataException($"{source}: graph output '{o}' is never computed");
        var read = new HashSet<string>(nodes.SelectMany(n => n.Inputs).Concat(outputs));
        foreach (var node in nodes) node.MarkUsedOutputs(read);
        return new OnnxModel(source, model, nodes, parameters, constants, inputs, outputs);
    }

    /// <summary>Runs the graph on its single float input and returns the first output.</summary>
    public Tensor Run(Tape tape, Tensor input)
    {
        if (Inputs.Count != 1)
            throw new ArgumentException($"{Source} has {Inputs.Count} inputs ({string.Join(", ", Inputs.Select(i => i.Name))}); pass them by name");
        var outputs = Run(tape, new Dictionary<string, OnnxValue> { [Inputs[0].Name] = OnnxValue.FromTensor(input) });
        var first = outputs[OutputNames[0]];
        return first.Tensor ?? throw new InvalidOperationException($"output '{OutputNames[0]}' is an integer tensor; use the dictionary overload");
    }

    /// <summary>
    /// Runs the graph; returns every graph output by name. The caller owns the tape (call <see cref="Tape.Reset"/>
    /// between passes); every node output is published on it under its ONNX name.
    /// </summary>
    public IReadOnlyDictionary<string, OnnxValue> Run(Tape tape, IReadOnlyDictionary<string, OnnxValue> inputs) =>
        Evaluate(tape, inputs, null, fuse: true);

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

    /// <summary>Runs one forward pass (on zeros of the declared input shape unless <paramref name="input"/> is given) and lists every node with its output shapes.</summary>
    public IReadOnlyList<OnnxLayerInfo> DescribeLayers(Tape tape, Tensor? input = null)
    {
        if (Inputs.Count != 1) throw new ArgumentException($"{Source} has {Inputs.Count} inputs; DescribeLayers needs exactly one");
        input ??= Tensor.Zeros(Inputs[0].Dims.Select(d => d < 0 ? 1 : d).ToArray());
        var layers = new List<OnnxLayerInfo>();
        Evaluate(tape, new Dictionary<string, OnnxValue> { [Inputs[0].Name] = OnnxValue.FromTensor(input) },
            (node, values) => layers.Add(new OnnxLayerInfo(node.OpType, node.Name, node.Outputs,
                values.Select(v => v?.Dims).ToArray())), fuse: false);
        return layers;
    }

    /// <summary>
    /// One pass. With <paramref name="fuse"/> a no-grad pass runs through <see cref="OnnxInferencePlan"/> (fused
    /// convolutions; tensors fused away are not published unless the tape observes them); <paramref name="onNode"/>
    /// needs every node's outputs, so it is given unfused passes only.
    /// </summary>
    private Dictionary<string, OnnxValue> Evaluate(Tape tape, IReadOnlyDictionary<string, OnnxValue> inputs, Action<OnnxNode, OnnxValue?[]>? onNode, bool fuse)
    {
        // A pass that may train the parameters makes weights prepared before it stale.
        if (tape.GradEnabled && tape.ParameterGradients && _parameters.Values.Any(p => p.RequiresGrad)) ParametersChanged();
        var plan = fuse && !tape.GradEnabled ? _inference.Begin(tape, this) : null;
        // Node outputs and graph inputs; initializers are read from _initializerValues (copying them every pass cost
        // a dictionary of every parameter per forward).
        var env = new Dictionary<string, OnnxValue>(_valueCount);
        foreach (var declared in Inputs)
        {
            if (!inputs.TryGetValue(declared.Name, out var value))
                throw new ArgumentException($"{Source}: graph input '{declared.Name}' {declared} was not given");
            CheckInputShape(declared, value);
            env[declared.Name] = value;
            if (value.Tensor is { } t) tape.Publish(t, declared.Name);
        }
        // Every declared input was given, so only a larger dictionary can hold a name that is not an input.
        if (inputs.Count != Inputs.Count)
            foreach (var name in inputs.Keys)
                if (!Inputs.Any(i => i.Name == name))
                    throw new ArgumentException($"{Source}: '{name}' is not a graph input (inputs: {string.Join(", ", Inputs.Select(i => i.Name))})");

        var args = new List<OnnxValue?>();
        foreach (var node in Nodes)
        {
            args.Clear();
            // A tensor fused away in this pass has no value; only the plan's own steps read one.
            foreach (var name in node.Inputs) args.Add(name.Length == 0 ? null : plan is null ? Value(env, name) : env.GetValueOrDefault(name) ?? _initializerValues.GetValueOrDefault(name));
            if (plan is not null && plan.TryRun(node, args, out var fusedName, out var fused))
            {
                if (fusedName is null || fused is null) continue;
                env[fusedName] = fused;
                if (fused.Tensor is { } ft) tape.Publish(ft, fusedName);
                continue;
            }
            var results = OnnxOperators.Execute(tape, node, args);
            for (int i = 0; i < node.Outputs.Count && i < results.Length; i++)
            {
                var name = node.Outputs[i];
                if (name.Length == 0 || results[i] is not { } value) continue;
                env[name] = value;
                if (value.Tensor is { } t) tape.Publish(t, name);
            }
            onNode?.Invoke(node, results);
        }
        var outputs = new Dictionary<string, OnnxValue>();
        foreach (var name in OutputNames) outputs[name] = Value(env, name);
        return outputs;
    }

    private OnnxValue Value(Dictionary<string, OnnxValue> env, string name) =>
        env.TryGetValue(name, out var value) ? value : _initializerValues[name];

    private static void CheckInputShape(OnnxGraphInput declared, OnnxValue value)
    {
        var dims = value.Dims;
        bool ok = declared.Dims.Count == 0 || dims.Length == declared.Dims.Count;
        for (int i = 0; ok && i < declared.Dims.Count; i++)
            if (declared.Dims[i] >= 0 && declared.Dims[i] != dims[i]) ok = false;
        if (!ok)
            throw new ArgumentException($"graph input '{declared.Name}' has shape [{string.Join(", ", dims)}] but the model expects [{string.Join(", ", declared.Dims.Select(d => d < 0 ? "?" : d.ToString()))}]");
        if (!value.IsFloat && declared.ElementType is OnnxDataType.Float or OnnxDataType.Float16 or OnnxDataType.Double)
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
