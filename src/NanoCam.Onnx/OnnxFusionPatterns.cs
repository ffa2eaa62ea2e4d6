namespace NanoCam.Onnx;

/// <summary>
/// The node patterns the inference plan folds into a convolution, matched once per model on the graph alone:
/// a BatchNormalization with constant statistics, and the activation that follows (one node, or the gated pair
/// Mul(x, Sigmoid(x)) / Mul(x, HardSigmoid(x))). Each match names the tensor it produces.
/// </summary>
internal sealed class OnnxFusionPatterns(OnnxModel model)
{
    private readonly Dictionary<string, int> _readers = CountReaders(model);

    private static Dictionary<string, int> CountReaders(OnnxModel model)
    {
        var readers = new Dictionary<string, int>();
        foreach (var node in model.Nodes)
            foreach (var input in node.Inputs)
                if (input.Length > 0) readers[input] = readers.GetValueOrDefault(input) + 1;
        foreach (var output in model.OutputNames) readers[output] = readers.GetValueOrDefault(output) + 1;
        return readers;
    }

    /// <summary>How many node inputs and graph outputs read <paramref name="name"/>.</summary>
    public int Readers(string name) => _readers.GetValueOrDefault(name);

    /// <summary>The node that alone reads <paramref name="name"/> (once), or null.</summary>
    public OnnxNode? OnlyReader(string name) => Readers(name) == 1 ? model.Consumers(name).FirstOrDefault() : null;

    /// <summary>
    /// An inference-mode BatchNormalization that alone reads <paramref name="convOutput"/> (of <paramref name="channels"/>
    /// channels), whose scale, bias, mean and variance are constant [K] initializers and whose other outputs nobody reads.
    /// </summary>
    public OnnxNode? BatchNormAfter(string convOutput, int channels)
    {
        if (OnlyReader(convOutput) is not { OpType: "BatchNormalization", Domain: "" or "ai.onnx" } bn) return null;
        if (bn.Int("training_mode", 0) != 0 || bn.Int("spatial", 1) != 1 || bn.Inputs.Count < 5 || bn.Inputs[0] != convOutput) return null;
        for (int i = 1; i <= 4; i++)
            if (!model.Parameters.TryGetValue(bn.Inputs[i], out var p) || p.Shape.Rank != 1 || p.Shape[0] != channels) return null;
        for (int o = 1; o < bn.Outputs.Count; o++)
            if (bn.Outputs[o].Length > 0 && Readers(bn.Outputs[o]) > 0) return null;
        return bn;
    }

    /// <summary>An activation applied to <paramref name="input"/> alone that the convolution's epilogue computes, or null.</summary>
    public ActivationMatch? ActivationAfter(string input)
    {
        if (OnlyReader(input) is { Domain: "" or "ai.onnx" } single && single.Inputs.Count > 0 && single.Inputs[0] == input
            && Epilogue(single) is { } epilogue)
            return new ActivationMatch([single], epilogue, single.Outputs[0]);
        return Readers(input) == 2 ? GatedAfter(input) : null;
    }

    /// <summary>Mul(x, g(x)) with g Sigmoid (SiLU) or HardSigmoid (HardSwish before opset 14), g's output read by the Mul alone.</summary>
    private ActivationMatch? GatedAfter(string input)
    {
        var readers = model.Consumers(input).ToArray();
        if (readers.Length != 2) return null;
        foreach (var gate in readers)
        {
            if (gate.OpType is not ("Sigmoid" or "HardSigmoid") || gate.Domain is not ("" or "ai.onnx") || gate.Inputs[0] != input) continue;
            var mul = readers.First(r => r != gate);
            if (mul.OpType != "Mul" || mul.Domain is not ("" or "ai.onnx") || mul.Inputs.Count != 2 || OnlyReader(gate.Outputs[0]) != mul) continue;
            if (!(mul.Inputs[0] == input && mul.Inputs[1] == gate.Outputs[0] || mul.Inputs[1] == input && mul.Inputs[0] == gate.Outputs[0])) continue;
            var epilogue = gate.OpType == "Sigmoid"
                ? new ConvEpilogue(EpilogueActivation.Silu)
                : new ConvEpilogue(EpilogueActivation.HardSigmoidGate, gate.Float("alpha", 0.2f), gate.Float("beta", 0.5f));
            return new ActivationMatch([gate, mul], epilogue, mul.Outputs[0]);
        }
        return null;
    }

    /// <summary>The epilogue of a one-input activation node, or null when the node is not one (or its Clip bounds are not constant).</summary>
    private ConvEpilogue? Epilogue(OnnxNode node) => node.OpType switch
    {
        "Relu" => ConvEpilogue.Relu,
        "LeakyRelu" => new ConvEpilogue(EpilogueActivation.LeakyRelu, node.Float("alpha", 0.01f)),
        "Sigmoid" => new ConvEpilogue(EpilogueActivation.Sigmoid),
        "HardSigmoid" => new ConvEpilogue(EpilogueActivation.HardSigmoid, node.Float("alpha", 0.2f), node.Float("beta", 0.5f)),
        "HardSwish" => new ConvEpilogue(EpilogueActivation.HardSwish),
        "Clip" => ClipBounds(node) is var (low, high) ? new ConvEpilogue(EpilogueActivation.Clip, low, high) : null,
        _ => null,
    };

    /// <summary>Clip's bounds: attributes before opset 11, constant inputs (an initializer or a Constant node) from 11 on.</summary>
    private (float Low, float High)? ClipBounds(OnnxNode clip)
    {
        if (clip.Opset < 11) return (clip.Float("min", float.NegativeInfinity), clip.Float("max", float.PositiveInfinity));
        float? low = clip.Inputs.Count > 1 && clip.Inputs[1].Length > 0 ? ConstantScalar(clip.Inputs[1]) : float.NegativeInfinity;
        float? high = clip.Inputs.Count > 2 && clip.Inputs[2].Length > 0 ? ConstantScalar(clip.Inputs[2]) : float.PositiveInfinity;
        return low is { } l && high is { } h ? (l, h) : null;
    }

    /// <summary>
    /// The exact GELU as exporters write it, 0.5·x·(1 + erf(x/√2)): Div(x, √2) or Mul(x, 1/√2) → Erf → Add(·, 1) → then
    /// Mul(x, ·) → Mul(·, 0.5), or Mul(·, 0.5) → Mul(x, ·), or Mul(x, 0.5) beside it → Mul(·, ·); any operand order of the
    /// commutative ops, constants as initializers or Constant nodes (within 1e-6 relative). Each intermediate is read by
    /// the next node of the chain alone.
    /// </summary>
    public List<GeluMatch> GeluChains()
    {
        var chains = new List<GeluMatch>();
        foreach (var erf in model.Nodes)
        {
            if (erf.OpType != "Erf" || !Standard(erf) || erf.Inputs.Count != 1 || Readers(erf.Inputs[0]) != 1) continue;
            if (model.Producer(erf.Inputs[0]) is not { } scaled || !Standard(scaled) || scaled.Inputs.Count != 2) continue;
            string? x = scaled.OpType switch
            {
                "Div" when Near(ConstantScalar(scaled.Inputs[1]), MathF.Sqrt(2f)) => scaled.Inputs[0],
                "Mul" when Near(ConstantScalar(scaled.Inputs[1]), 1f / MathF.Sqrt(2f)) => scaled.Inputs[0],
                "Mul" when Near(ConstantScalar(scaled.Inputs[0]), 1f / MathF.Sqrt(2f)) => scaled.Inputs[1],
                _ => null,
            };
            if (x is null) continue;
            if (OnlyReader(erf.Outputs[0]) is not { OpType: "Add" } add || !Standard(add) || Other(add, erf.Outputs[0]) is not { } one || !Near(ConstantScalar(one), 1f)) continue;
            if (OnlyReader(add.Outputs[0]) is not { OpType: "Mul" } first || !Standard(first) || Other(first, add.Outputs[0]) is not { } partner) continue;
            GeluMatch? match = null;
            if (partner == x && Readers(first.Outputs[0]) == 1 && OnlyReader(first.Outputs[0]) is { OpType: "Mul" } half && Standard(half)
                && Near(ConstantScalar(Other(half, first.Outputs[0]) ?? ""), 0.5f))
                match = new GeluMatch([scaled, erf, add, first, half], x, half.Outputs[0]);                 // (x·(1 + erf))·0.5
            else if (Near(ConstantScalar(partner), 0.5f) && OnlyReader(first.Outputs[0]) is { OpType: "Mul" } outer && Standard(outer)
                && Other(outer, first.Outputs[0]) == x)
                match = new GeluMatch([scaled, erf, add, first, outer], x, outer.Outputs[0]);               // x·((1 + erf)·0.5)
            else if (Readers(partner) == 1 && model.Producer(partner) is { OpType: "Mul" } halfX && Standard(halfX)
                && Other(halfX, x) is { } h && Near(ConstantScalar(h), 0.5f))
                match = new GeluMatch([scaled, halfX, erf, add, first], x, first.Outputs[0]);              // (0.5·x)·(1 + erf)
            if (match is null) continue;
            Array.Sort(match.Nodes, (a, b) => a.Index.CompareTo(b.Index));
            chains.Add(match with { Index = chains.Count });
        }
        return chains;
    }

    private static bool Standard(OnnxNode node) => node.Domain is "" or "ai.onnx";

    /// <summary>The other input of a two-input node one of whose inputs is <paramref name="input"/>, or null.</summary>
    private static string? Other(OnnxNode node, string input) =>
        node.Inputs.Count != 2 ? null : node.Inputs[0] == input ? node.Inputs[1] : node.Inputs[1] == input ? node.Inputs[0] : null;

    private static bool Near(float? value, float expected) => value is { } v && MathF.Abs(v - expected) <= 1e-6f * MathF.Abs(expected);

    /// <summary>A one-element float constant: an initializer or a Constant node's value; else null.</summary>
    private float? ConstantScalar(string name)
    {
        var value = model.Initializer(name);
        if (value is null && model.Producer(name) is { OpType: "Constant" } constant)
        {
            if (constant.Attribute("value") is { } a) value = OnnxTensors.Decode(a.T, null, $"Constant node {constant.Name}");
            else if (constant.HasAttribute("value_float")) return constant.Float("value_float", 0f);
        }
        return value is { IsFloat: true, Tensor: { Size: 1, IsOnHost: true } t } ? t.Span[0] : null;
    }
}

/// <summary>A GELU written as five nodes (in graph order), what they read and the tensor the last produces; Index numbers the chains.</summary>
internal sealed record GeluMatch(OnnxNode[] Nodes, string Input, string Output)
{
    public int Index { get; init; }
}

/// <summary>An activation the epilogue takes over: its nodes (one, or the gate and its Mul), what it computes, and its output.</summary>
internal sealed record ActivationMatch(OnnxNode[] Nodes, ConvEpilogue Epilogue, string Output);
