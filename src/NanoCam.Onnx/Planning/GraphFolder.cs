using System.Globalization;
using System.Text;
using NanoCam.Autodiff;
using NanoCam.Cpu.Naive;
using NanoCam.Onnx.Operators;

namespace NanoCam.Onnx.Planning;

/// <summary>
/// Folds a graph for one input signature without running the network. A node whose inputs are all known (constants,
/// integer inputs, folded values; never a trainable parameter) runs once on the host's reference kernels and becomes a
/// constant; Shape-like operators fold whatever their input. Every other node runs on <see cref="ShapeOnlyKernels"/>,
/// which yields its output shapes for the price of the shape checks. A float input whose values an operator must read
/// (a Range bound given as an input) becomes part of the signature, and the graph is folded again with it known.
/// </summary>
internal static class GraphFolder
{
    /// <summary>The signature of a set of inputs: kinds and shapes, plus the values of host inputs and of <paramref name="keyed"/> ones.</summary>
    public static string KeyOf(IReadOnlyList<OnnxGraphInput> declared, IReadOnlyDictionary<string, OnnxValue> inputs, IReadOnlySet<string> keyed)
    {
        var key = new StringBuilder();
        foreach (var input in declared)
        {
            var value = inputs[input.Name];
            key.Append(input.Name).Append(':').Append(value.Kind).Append(':').Append(value.ElementType).Append('[').AppendJoin(',', value.Dims).Append(']');
            if (value.Integers is { } ints) key.Append('=').AppendJoin(',', ints);
            else if (value.Strings is { } strings) key.Append('=').AppendJoin('\u0001', strings);
            else if (value.Kind == OnnxValueKind.Sequence) key.Append('#').Append(value.Items!.Count);
            else if (value.Tensor is { } tensor && keyed.Contains(input.Name))
                key.Append('=').AppendJoin(',', tensor.ToArray().Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
            key.Append(';');
        }
        return key.ToString();
    }

    /// <summary>
    /// Folds <paramref name="model"/> for <paramref name="inputs"/> (real values, or shape-only tensors when only the
    /// shapes matter). <paramref name="keyed"/> starts with the float inputs already known to be read as attributes.
    /// </summary>
    public static GraphPlan Fold(OnnxModel model, IReadOnlyDictionary<string, OnnxValue> inputs, IReadOnlySet<string>? keyed = null)
    {
        var keyedInputs = new HashSet<string>(keyed ?? new HashSet<string>());
        while (true)
        {
            try
            {
                return FoldOnce(model, inputs, keyedInputs);
            }
            catch (KnownInputRequiredException ex) when (IsFloatInput(model, inputs, ex.Tensor) && !keyedInputs.Contains(ex.Tensor))
            {
                // An operator reads this input's values as an attribute: they become part of the signature.
                keyedInputs.Add(ex.Tensor);
            }
        }
    }

    private static bool IsFloatInput(OnnxModel model, IReadOnlyDictionary<string, OnnxValue> inputs, string name) =>
        model.Inputs.Any(i => i.Name == name) && inputs.TryGetValue(name, out var v) && v.Tensor is { } t && !ShapeOnlyKernels.IsShapeOnly(t);

    private static GraphPlan FoldOnce(OnnxModel model, IReadOnlyDictionary<string, OnnxValue> inputs, HashSet<string> keyed)
    {
        var known = new Dictionary<string, OnnxValue>();
        var data = new Dictionary<string, OnnxValue>();
        var dims = new Dictionary<string, int[]>();
        var types = new Dictionary<string, OnnxDataType>();
        foreach (var declared in model.Inputs)
        {
            var value = inputs[declared.Name];
            dims[declared.Name] = value.Dims;
            types[declared.Name] = value.ElementType;
            if (value.Tensor is not { } tensor) known[declared.Name] = value;
            else if (keyed.Contains(declared.Name)) known[declared.Name] = OnnxValue.FromTensor(Tensor.FromArray(tensor.ToArray(), value.Dims), value.ElementType);
            else data[declared.Name] = OnnxValue.FromTensor(ShapeOnlyKernels.Instance.Allocate(tensor.Shape), value.ElementType);
        }

        // Outputs of folded nodes are copied to fresh host values, so one reference tape serves every folded node.
        var hostTape = new Tape(NaiveKernels.Instance) { GradEnabled = false };
        var shapeTape = new Tape(ShapeOnlyKernels.Instance) { GradEnabled = false };
        var live = new List<OnnxNode>();
        var fromInputs = new HashSet<string>(data.Keys);
        foreach (var node in model.Nodes)
        {
            var op = OnnxOperatorRegistry.Find(node.OpType)!;
            var args = new OnnxValue?[node.Inputs.Count];
            var hostValues = new OnnxValue?[node.Inputs.Count];
            bool foldable = true;
            for (int i = 0; i < args.Length; i++)
            {
                var name = node.Inputs[i];
                if (name.Length == 0) continue;
                if (known.TryGetValue(name, out var value)) (args[i], hostValues[i]) = (value, value);
                else if (model.InitializerValue(name, out bool isParameter) is { } initializer)
                {
                    (args[i], hostValues[i]) = (initializer, initializer);
                    // A trainable parameter stays live, so that gradients reach it and edits to it are seen.
                    foldable &= !isParameter;
                }
                else
                {
                    args[i] = data[name];
                    foldable = false;
                }
            }
            foldable |= op.ReadsShapesOnly;
            hostTape.Reset();
            var context = new OnnxOperatorContext(foldable ? hostTape : shapeTape, node, args, hostValues);
            var results = OnnxModel.RunOperator(op, context);
            for (int i = 0; i < node.Outputs.Count && i < results.Length; i++)
            {
                var name = node.Outputs[i];
                if (name.Length == 0 || results[i] is not { } result) continue;
                dims[name] = result.Dims;
                types[name] = result.ElementType;
                if (foldable) known[name] = Detach(result);
                else data[name] = result;
            }
            if (!foldable)
            {
                live.Add(node);
                if (node.Inputs.Any(fromInputs.Contains)) fromInputs.UnionWith(node.Outputs.Where(o => o.Length > 0));
            }
        }
        var plan = new GraphPlan(KeyOf(model.Inputs, inputs, keyed), live, known, dims, types, keyed, fromInputs);
        plan.SetTensorSignature(model.Inputs, inputs);
        return plan;
    }

    /// <summary>
    /// A folded value as a host value that outlives the fold tape: integer and BOOL results computed as exact floats
    /// become host integers again (so shape arithmetic downstream stays exact in 64 bits); float tensors are copied.
    /// </summary>
    private static OnnxValue Detach(OnnxValue value)
    {
        if (value.Tensor is not { } tensor) return value;
        var values = tensor.ToArray();
        if (value.ElementType.IsInteger())
        {
            var integers = new long[values.Length];
            for (int i = 0; i < values.Length; i++)
                integers[i] = value.ElementType == OnnxDataType.Bool ? (values[i] != 0f ? 1 : 0) : (long)values[i];
            return OnnxValue.FromIntegers(integers, value.Dims, value.ElementType);
        }
        return OnnxValue.FromTensor(Tensor.FromArray(values, value.Dims), value.ElementType);
    }
}
