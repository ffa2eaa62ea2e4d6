namespace NanoCam.Onnx.Operators;

/// <summary>Concat along one axis: tensors on the tape; known host integers (shape vectors) on the host.</summary>
internal static class Concat
{
    public static readonly OnnxOperator Operator = OnnxOperator.Single("Concat", Run);

    private static OnnxValue Run(OnnxOperatorContext c)
    {
        if (c.TryRecall(out Recalled plan)) return OnnxOperatorContext.Result(Ops.TapeOps.Concat(c.Tape, c.PresentTensors(), plan.Axis), plan.Type);
        var values = c.PresentInputs.ToArray();
        if (values.Length == 0) throw c.Invalid("no inputs");
        int rank = values[0].Dims.Length;
        long attribute = c.Node.Int("axis", 1);
        int axis = (int)(attribute < 0 ? attribute + rank : attribute);
        if (axis < 0 || axis >= rank) throw c.Invalid($"axis {attribute} is out of range for rank {rank}");
        if (values.All(v => v.Integers is not null)) return Integers(c, values, axis);
        var tensors = Enumerable.Range(0, c.InputCount).Where(c.Has).Select(c.Float).ToArray();
        c.Remember(new Recalled(axis, values[0].ElementType));
        return OnnxOperatorContext.Result(Ops.TapeOps.Concat(c.Tape, tensors, axis), values[0].ElementType);
    }

    /// <summary>A tensor concat's axis and element type, for these inputs.</summary>
    private sealed record Recalled(int Axis, OnnxDataType Type);

    /// <summary>Host concat: outer × (each input's slab along axis) × inner.</summary>
    private static OnnxValue Integers(OnnxOperatorContext c, OnnxValue[] values, int axis)
    {
        var dims = (int[])values[0].Dims.Clone();
        foreach (var v in values)
        {
            if (v.Dims.Length != dims.Length) throw c.Invalid($"inputs {values[0]} and {v} differ in rank");
            for (int i = 0; i < dims.Length; i++)
                if (i != axis && v.Dims[i] != dims[i]) throw c.Invalid($"inputs {values[0]} and {v} differ on axis {i}");
        }
        dims[axis] = values.Sum(v => v.Dims[axis]);
        var s = new Shape(dims);
        int outer = s.Product(0, axis), inner = s.Product(axis + 1, dims.Length);
        var result = new List<long>(s.Size);
        for (int o = 0; o < outer; o++)
            foreach (var v in values)
            {
                int slab = v.Dims[axis] * inner;
                result.AddRange(v.Integers!.AsSpan(o * slab, slab).ToArray());
            }
        return OnnxValue.FromIntegers([.. result], dims, values[0].ElementType);
    }
}
