using NanoCam.Autodiff;
using NanoCam.Onnx.Planning;

namespace NanoCam.Onnx.Operators;

/// <summary>
/// What an operator sees of one node in one pass: the tape, the node (attributes, opset), and its inputs, each either
/// data (a tensor on the tape's backend) or known when the graph is folded (a constant, a parameter, or computed from
/// shapes and constants), in which case its values can be read on the host as an attribute would be.
/// </summary>
internal sealed class OnnxOperatorContext
{
    private IReadOnlyList<OnnxValue?> _inputs;
    private IReadOnlyList<OnnxValue?> _known;
    // The array a single-output operator returns its value in, reused from node to node (the caller reads it at once).
    private readonly OnnxValue?[] _single = new OnnxValue?[1];

    /// <param name="known">The host value of input i when it is known at fold time, else null (one entry per input).</param>
    public OnnxOperatorContext(Tape tape, OnnxNode node, IReadOnlyList<OnnxValue?> inputs, IReadOnlyList<OnnxValue?> known)
    {
        Tape = tape;
        Node = node;
        _inputs = inputs;
        _known = known;
    }

    /// <summary>Points this context at another node of the same pass (one context serves a whole pass, allocating nothing per node).</summary>
    internal void MoveTo(OnnxNode node, IReadOnlyList<OnnxValue?> inputs, IReadOnlyList<OnnxValue?> known)
    {
        Node = node;
        _inputs = inputs;
        _known = known;
    }

    /// <summary>A single-output operator's result array: reused, so read it before running the next node.</summary>
    internal OnnxValue?[] Single(OnnxValue value)
    {
        _single[0] = value;
        return _single;
    }

    public Tape Tape { get; }

    /// <summary>
    /// What the operator worked out for this node when its inputs last had these shapes and these known values (the
    /// same host values, by reference: a folded plan hands out the same ones each pass), so that a warm pass skips
    /// the attribute parsing and shape arithmetic and allocates nothing; false on the first pass or when they changed.
    /// </summary>
    internal bool TryRecall<T>(out T value) where T : class
    {
        value = null!;
        if (Node.Plan is not NodeMemo { Value: T recalled } memo || memo.Shapes.Length != _inputs.Count) return false;
        for (int i = 0; i < _inputs.Count; i++)
        {
            var known = _known[i];
            if (!ReferenceEquals(known, memo.Known[i])) return false;
            if (known is null && _inputs[i]?.Tensor?.Shape != memo.Shapes[i]) return false;
        }
        value = recalled;
        return true;
    }

    /// <summary>Keeps <paramref name="value"/> on the node for <see cref="TryRecall"/>, keyed by the inputs as they are now.</summary>
    internal T Remember<T>(T value) where T : class
    {
        var shapes = new Shape?[_inputs.Count];
        var known = new OnnxValue?[_inputs.Count];
        for (int i = 0; i < shapes.Length; i++) (shapes[i], known[i]) = (_inputs[i]?.Tensor?.Shape, _known[i]);
        Node.Plan = new NodeMemo(shapes, known, value);
        return value;
    }

    private sealed record NodeMemo(Shape?[] Shapes, OnnxValue?[] Known, object Value);

    /// <summary>The float tensors of the present inputs, in order, in a list this context reuses (read it before the next node).</summary>
    internal ReadOnlySpan<Tensor> PresentTensors()
    {
        _tensors.Clear();
        for (int i = 0; i < _inputs.Count; i++)
            if (Has(i)) _tensors.Add(Float(i));
        return System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_tensors);
    }

    private readonly List<Tensor> _tensors = [];

    // The array a two-output operator returns its values in, reused as the single one is.
    private readonly OnnxValue?[] _pair = new OnnxValue?[2];

    /// <summary>A two-output operator's result array: reused, so read it before running the next node.</summary>
    internal OnnxValue?[] Pair(OnnxValue? first, OnnxValue? second)
    {
        (_pair[0], _pair[1]) = (first, second);
        return _pair;
    }

    private readonly OnnxValue?[] _triple = new OnnxValue?[3];

    /// <summary>A three-output operator's result array, reused likewise.</summary>
    internal OnnxValue?[] Triple(OnnxValue? first, OnnxValue? second, OnnxValue? third)
    {
        (_triple[0], _triple[1], _triple[2]) = (first, second, third);
        return _triple;
    }

    /// <summary>Whether BatchNormalization uses (and updates) batch statistics in this pass: a training tape on a model that asks for it.</summary>
    public bool BatchStatistics { get; set; }

    /// <summary>Whether the pass may run an operator as one fused kernel where the backend has one (<see cref="OnnxModel.Fuse"/>).</summary>
    public bool Fuse { get; set; }

    public OnnxNode Node { get; private set; }

    /// <summary>The node's opset (of its domain).</summary>
    public int Opset => Node.Opset;

    /// <summary>Whether this pass computes shapes only (folding): tensors then have no values.</summary>
    public bool ShapeOnly => ReferenceEquals(Tape.Kernels, ShapeOnlyKernels.Instance);

    /// <summary>The number of inputs the node lists (omitted optional ones included).</summary>
    public int InputCount => _inputs.Count;

    /// <summary>Whether input <paramref name="index"/> is present (listed and not omitted with an empty name).</summary>
    public bool Has(int index) => index < _inputs.Count && _inputs[index] is not null;

    /// <summary>Input <paramref name="index"/>; a missing required input is an error in the model.</summary>
    public OnnxValue Input(int index) => Has(index) ? _inputs[index]! : throw Invalid($"input {index} is required but missing");

    public OnnxValue? OptionalInput(int index) => Has(index) ? _inputs[index] : null;

    /// <summary>The present inputs, in order (variadic operators: Concat, Sum, Max, …).</summary>
    public IEnumerable<OnnxValue> PresentInputs => _inputs.Where(v => v is not null).Select(v => v!);

    /// <summary>Whether input <paramref name="index"/>'s values are known when the graph is folded.</summary>
    public bool IsKnown(int index) => Has(index) && _known[index] is not null;

    /// <summary>
    /// Input <paramref name="index"/> as a float32 tensor on the tape's backend. Integer and BOOL data become exact floats
    /// (refused beyond ±2^24, which float32 cannot hold exactly); strings and sequences are refused.
    /// </summary>
    public Tensor Float(int index)
    {
        var value = Input(index);
        if (value.Tensor is { } tensor) return tensor;
        if (value.Integers is { } integers)
        {
            const long exact = 1L << 24;
            foreach (var v in integers)
                if (v is > exact or < -exact)
                    throw Unsupported($"input {index} ({value}) holds integers beyond ±2^24, which NanoCam's float32 kernels cannot hold exactly");
            return Tape.Kernels.Stage(value.AsTensor());
        }
        throw Unsupported($"input {index} is {value}, which this operator does not take");
    }

    public Tensor? OptionalFloat(int index) => Has(index) ? Float(index) : null;

    /// <summary>The host value of a known input; data (anything computed from the image's values) is refused in one line.</summary>
    public OnnxValue Known(int index)
    {
        if (!Has(index)) throw Invalid($"input {index} is required but missing");
        return _known[index] ?? throw new KnownInputRequiredException(Node, index, Node.Inputs[index]);
    }

    /// <summary>A known input's elements as integers (shape vectors, axes, pads, indices).</summary>
    public long[] KnownIntegers(int index) => Known(index).ToInt64Array();

    public long[]? OptionalKnownIntegers(int index) => Has(index) ? KnownIntegers(index) : null;

    /// <summary>A known input's elements as float32 (scales, bounds, fill values).</summary>
    public float[] KnownFloats(int index) => Known(index).ToFloatArray();

    /// <summary>A known scalar input (one element, of any rank).</summary>
    public float KnownScalar(int index) => KnownFloats(index) is [var x] ? x : throw Invalid($"input {index} must hold one value, got {Input(index)}");

    /// <summary>A float result of the given element type.</summary>
    public static OnnxValue Result(Tensor tensor, OnnxDataType type = OnnxDataType.Float) => OnnxValue.FromTensor(tensor, type);

    /// <summary>An attribute or input value the ONNX schema does not allow: one line naming the node.</summary>
    public ArgumentException Invalid(string what) => new(what);

    /// <summary>A valid ONNX construct NanoCam does not implement: one line naming the node, operator and opset.</summary>
    public NotSupportedException Unsupported(string what) => new($"ONNX node {Node.Name} ({Node.OpType}, opset {Node.Opset}): {what}");
}

/// <summary>An operator needed the host values of an input that depends on the graph's data.</summary>
internal sealed class KnownInputRequiredException(OnnxNode node, int index, string tensor)
    : NotSupportedException($"ONNX node {node.Name} ({node.OpType}, opset {node.Opset}) needs the values of input {index} ('{tensor}') when the model loads, but they depend on the input data")
{
    /// <summary>The tensor whose values were needed.</summary>
    public string Tensor { get; } = tensor;
}
