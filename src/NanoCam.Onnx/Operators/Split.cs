using NanoCam.Ops;

namespace NanoCam.Onnx.Operators;

/// <summary>
/// Split along an axis into the node's outputs: sizes from the split attribute (before opset 13) or input, else equal
/// parts — from opset 18 num_outputs parts of ⌈dim / n⌉ with a smaller last one.
/// </summary>
internal static class Split
{
    public static readonly OnnxOperator Operator = new("Split", Run);

    private static OnnxValue?[] Run(OnnxOperatorContext c)
    {
        var x = c.Input(0);
        int rank = x.Dims.Length;
        long attribute = c.Node.Int("axis", 0);
        int axis = (int)(attribute < 0 ? attribute + rank : attribute);
        if (axis < 0 || axis >= rank) throw c.Invalid($"axis {attribute} is out of range for {x}");
        int dim = x.Dims[axis], outputs = c.Node.Outputs.Count;
        long[]? sizes = c.Opset < 13 ? c.Node.Ints("split") : c.OptionalKnownIntegers(1);
        if (sizes is null)
        {
            int parts = c.Opset >= 18 && c.Node.HasAttribute("num_outputs") ? (int)c.Node.Int("num_outputs", outputs) : outputs;
            if (parts < 1 || parts != outputs) throw c.Invalid($"num_outputs {parts} does not match the node's {outputs} outputs");
            if (c.Opset < 18 && dim % parts != 0) throw c.Invalid($"axis {axis} of size {dim} does not split into {parts} equal parts");
            int chunk = (dim + parts - 1) / parts;
            sizes = Enumerable.Range(0, parts).Select(i => (long)Math.Clamp(dim - i * chunk, 0, chunk)).ToArray();
        }
        if (sizes.Length != outputs || sizes.Any(s => s < 0) || sizes.Sum() != dim)
            throw c.Invalid($"split sizes [{string.Join(", ", sizes)}] do not cut axis {axis} of size {dim} into {outputs} parts");
        var tensor = c.Float(0);
        var results = new OnnxValue?[outputs];
        int offset = 0;
        for (int i = 0; i < outputs; i++)
        {
            var (first, step, count) = Slice.Whole(x.Dims);
            (first[axis], count[axis]) = (sizes[i] == 0 ? 0 : offset, (int)sizes[i]);
            results[i] = OnnxOperatorContext.Result(c.Tape.Slice(tensor, first, step, count), x.ElementType);
            offset += (int)sizes[i];
        }
        return results;
    }
}
