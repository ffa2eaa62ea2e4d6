using NanoCam.Onnx.Protos;

namespace NanoCam.Onnx;

/// <summary>One ONNX node as the importer reads it: op type, tensor names, attributes, and the opset it was written for.</summary>
public sealed class OnnxNode
{
    private readonly Dictionary<string, AttributeProto> _attributes;

    internal OnnxNode(NodeProto proto, int index, int opset)
    {
        OpType = proto.OpType;
        Domain = proto.Domain;
        Name = string.IsNullOrEmpty(proto.Name) ? $"#{index}" : proto.Name;
        Index = index;
        Opset = opset;
        Inputs = [.. proto.Input];
        Outputs = [.. proto.Output];
        _attributes = [];
        foreach (var a in proto.Attribute) _attributes[a.Name] = a;
        // String attributes decoded once: operators read them on every pass, which must not allocate.
        foreach (var a in _attributes.Values)
            if (!a.S.IsEmpty) (_strings ??= [])[a.Name] = a.S.ToStringUtf8();
    }

    private readonly Dictionary<string, string>? _strings;

    public string OpType { get; }
    public string Domain { get; }

    /// <summary>The node's name, or "#index" when the file leaves it empty.</summary>
    public string Name { get; }

    /// <summary>Position in the graph's (topologically sorted) node list.</summary>
    public int Index { get; }

    /// <summary>The opset version imported for the node's domain; operator semantics depend on it.</summary>
    public int Opset { get; }

    /// <summary>Input tensor names; an empty name marks an omitted optional input.</summary>
    public IReadOnlyList<string> Inputs { get; }

    public IReadOnlyList<string> Outputs { get; }

    private bool[] _outputUsed = [];

    /// <summary>
    /// Whether output <paramref name="index"/> is read by a later node or is a graph output. Operators skip optional
    /// outputs nobody reads (SqueezeNet's Dropout mask would otherwise cost a 692 KB array per forward).
    /// </summary>
    public bool IsOutputUsed(int index) => index < _outputUsed.Length && _outputUsed[index];

    internal void MarkUsedOutputs(IReadOnlySet<string> read) =>
        _outputUsed = [.. Outputs.Select(o => o.Length > 0 && read.Contains(o))];

    /// <summary>
    /// What an operator worked out from the attributes for the input shapes it last saw (a convolution's geometry),
    /// kept so that the next pass with the same shapes skips the attribute parsing; the operator checks the shapes.
    /// </summary>
    internal object? Plan { get; set; }

    public IEnumerable<string> AttributeNames => _attributes.Keys;

    public bool HasAttribute(string name) => _attributes.ContainsKey(name);

    public long Int(string name, long fallback) => _attributes.TryGetValue(name, out var a) ? a.I : fallback;

    public float Float(string name, float fallback) => _attributes.TryGetValue(name, out var a) ? a.F : fallback;

    public string String(string name, string fallback) =>
        _strings is not null && _strings.TryGetValue(name, out var decoded) ? decoded
        : _attributes.TryGetValue(name, out var a) ? a.S.ToStringUtf8() : fallback;

    public long[]? Ints(string name) => _attributes.TryGetValue(name, out var a) ? [.. a.Ints] : null;

    public float[]? Floats(string name) => _attributes.TryGetValue(name, out var a) ? [.. a.Floats] : null;

    internal AttributeProto? Attribute(string name) => _attributes.GetValueOrDefault(name);

    public override string ToString() => $"{OpType} {Name} ({string.Join(", ", Inputs)}) → ({string.Join(", ", Outputs)})";
}
