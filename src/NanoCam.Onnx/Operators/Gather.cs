using NanoCam.Ops;

namespace NanoCam.Onnx.Operators;

/// <summary>
/// Gather: out = data.shape[:axis] + indices.shape + data.shape[axis+1:], the indices known when the graph is folded.
/// Tensors run on the tape (differentiable); known host values (shape vectors) are gathered on the host.
/// </summary>
internal static class Gather
{
    public static readonly OnnxOperator Operator = OnnxOperator.Single("Gather", Run);

    private static OnnxValue Run(OnnxOperatorContext c)
    {
        var data = c.Input(0);
        if (data.Tensor is { } recalledData && c.TryRecall(out Picked p))
            return OnnxOperatorContext.Result(c.Tape.Reshape(c.Tape.Gather(recalledData, p.Axis, p.Indices), p.Dims), data.ElementType);
        return Worked(c, data);
    }

    // A method of its own: its lambdas' closure would otherwise be allocated on every call of Run.
    private static OnnxValue Worked(OnnxOperatorContext c, OnnxValue data)
    {
        var indices = c.Known(1);
        int rank = data.Dims.Length;
        long attribute = c.Node.Int("axis", 0);
        int axis = (int)(attribute < 0 ? attribute + rank : attribute);
        if (axis < 0 || axis >= rank) throw c.Invalid($"axis {attribute} is out of range for {data}");
        int[] dims = [.. data.Dims[..axis], .. indices.Dims, .. data.Dims[(axis + 1)..]];
        var index = indices.ToInt64Array();
        int axisSize = data.Dims[axis];
        var picked = new int[index.Length];
        for (int j = 0; j < index.Length; j++)
        {
            long k = index[j] < 0 ? index[j] + axisSize : index[j];
            if (k < 0 || k >= axisSize) throw c.Invalid($"index {index[j]} is out of range for axis {axis} of size {axisSize}");
            picked[j] = (int)k;
        }
        if (data.Integers is null && data.Strings is null)
        {
            var t = c.Float(0);
            c.Remember(new Picked(axis, picked, dims));
            return OnnxOperatorContext.Result(c.Tape.Reshape(c.Tape.Gather(t, axis, picked), dims), data.ElementType);
        }
        var s = new Shape(data.Dims);
        int outer = s.Product(0, axis), inner = s.Product(axis + 1, rank);
        var order = new int[outer * picked.Length * inner];
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < picked.Length; j++)
                for (int i = 0; i < inner; i++)
                    order[(o * picked.Length + j) * inner + i] = (o * axisSize + picked[j]) * inner + i;
        return data.Integers is { } ints
            ? OnnxValue.FromIntegers(order.Select(i => ints[i]).ToArray(), dims, data.ElementType)
            : OnnxValue.FromStrings(order.Select(i => data.Strings![i]).ToArray(), dims);
    }

    /// <summary>A tensor gather's axis, indices (made non-negative) and output dimensions.</summary>
    private sealed record Picked(int Axis, int[] Indices, int[] Dims);
}
