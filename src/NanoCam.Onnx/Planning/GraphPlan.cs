using System.Runtime.CompilerServices;

namespace NanoCam.Onnx.Planning;

/// <summary>
/// A graph folded for one input signature (the float inputs' shapes, and the values of the inputs it depends on):
/// every value that depends only on shapes and constants computed once (Shape → Gather → Concat → Reshape chains,
/// ConstantOfShape, Range, Cast, …), every tensor's shape, and the nodes left to run on each pass.
/// </summary>
internal sealed class GraphPlan
{
    public GraphPlan(string key, IReadOnlyList<OnnxNode> liveNodes, Dictionary<string, OnnxValue> known,
        Dictionary<string, int[]> dims, Dictionary<string, OnnxDataType> types, IReadOnlySet<string> keyedInputs, IReadOnlySet<string> fromInputs)
    {
        FromInputs = fromInputs;
        Key = key;
        LiveNodes = liveNodes;
        Known = known;
        Dims = dims;
        Types = types;
        KeyedInputs = keyedInputs;
    }

    // The float inputs' element types and dimensions, when every input is a float tensor whose values the plan does
    // not read: then they are the whole signature, compared without building the key.
    private (OnnxDataType Type, int[] Dims)[]? _tensorSignature;

    /// <summary>Records the signature of plain float-tensor inputs (see <see cref="Matches"/>).</summary>
    public void SetTensorSignature(IReadOnlyList<OnnxGraphInput> declared, IReadOnlyDictionary<string, OnnxValue> inputs)
    {
        var signature = new (OnnxDataType, int[])[declared.Count];
        for (int i = 0; i < declared.Count; i++)
        {
            var value = inputs[declared[i].Name];
            if (value.Tensor is not { } tensor || value.Kind != OnnxValueKind.Tensor || KeyedInputs.Contains(declared[i].Name)) return;
            signature[i] = (value.ElementType, tensor.Shape.ToArray());
        }
        _tensorSignature = signature;
    }

    /// <summary>
    /// Whether <paramref name="inputs"/> have this plan's signature, decided without allocating when every input is a
    /// plain float tensor (as the plan's were); null when the full key must decide (<see cref="GraphFolder.KeyOf"/>).
    /// </summary>
    public bool? Matches(IReadOnlyList<OnnxGraphInput> declared, IReadOnlyDictionary<string, OnnxValue> inputs)
    {
        if (_tensorSignature is not { } signature) return null;
        for (int i = 0; i < declared.Count; i++)
        {
            var value = inputs[declared[i].Name];
            if (value.Tensor is not { } tensor || value.Kind != OnnxValueKind.Tensor) return null;
            if (value.ElementType != signature[i].Type || !tensor.Shape.Dims.SequenceEqual(signature[i].Dims)) return false;
        }
        return true;
    }

    /// <summary>The signature this plan was folded for (see <see cref="GraphFolder.KeyOf"/>).</summary>
    public string Key { get; }

    /// <summary>The nodes that depend on the input data, in execution order: what a pass runs.</summary>
    public IReadOnlyList<OnnxNode> LiveNodes { get; }

    /// <summary>Host values known at fold time: folded node outputs and inputs whose values the plan depends on.</summary>
    public Dictionary<string, OnnxValue> Known { get; }

    /// <summary>The dimensions of every graph input and node output at this signature.</summary>
    public Dictionary<string, int[]> Dims { get; }

    /// <summary>The element type of every graph input and node output.</summary>
    public Dictionary<string, OnnxDataType> Types { get; }

    /// <summary>The data graph inputs and every tensor computed from them (not those computed from parameters alone).</summary>
    public IReadOnlySet<string> FromInputs { get; }

    /// <summary>Float graph inputs whose values some operator reads as an attribute (Range bounds, Resize scales given as inputs).</summary>
    public IReadOnlySet<string> KeyedInputs { get; }

    /// <summary>The live nodes with their operators and input sources resolved (built on the plan's first pass).</summary>
    public PassStep[]? Steps { get; set; }

    /// <summary>Known float values copied to a device backend, once per backend.</summary>
    public ConditionalWeakTable<IKernels, Dictionary<string, OnnxValue>> Staged { get; } = [];

    /// <summary>A known value as the given backend holds it (host values other than float tensors are returned as they are).</summary>
    public OnnxValue StagedKnown(string name, IKernels kernels)
    {
        var value = Known[name];
        if (value.Tensor is not { } tensor || tensor.IsOnHost == kernels.AllocatesOnHost()) return value;
        var staged = Staged.GetOrCreateValue(kernels);
        lock (staged)
        {
            if (!staged.TryGetValue(name, out var copy))
                staged[name] = copy = OnnxValue.FromTensor(kernels.Stage(tensor), value.ElementType);
            return copy;
        }
    }
}
