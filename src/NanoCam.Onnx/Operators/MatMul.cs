using NanoCam.Ops;

namespace NanoCam.Onnx.Operators;

/// <summary>MatMul: NumPy matmul; leading (batch) axes that broadcast 1 against n are expanded first.</summary>
internal static class MatMul
{
    public static readonly OnnxOperator Operator = OnnxOperator.Single("MatMul", Run);

    private static OnnxValue Run(OnnxOperatorContext c)
    {
        var (tape, a, b) = (c.Tape, c.Float(0), c.Float(1));
        if (a.Shape.Rank == 2 && b.Shape.Rank == 2) return OnnxOperatorContext.Result(tape.MatMul(a, b));
        if (a.Shape.Rank > 2 && b.Shape.Rank > 2)
        {
            var batch = TapeOps.BroadcastShape(new Shape(a.Shape.Dims[..^2].ToArray()), new Shape(b.Shape.Dims[..^2].ToArray()), "matmul");
            a = ExpandBatch(c, a, batch);
            b = ExpandBatch(c, b, batch);
        }
        return OnnxOperatorContext.Result(tape.BatchedMatMul(a, b));
    }

    private static Tensor ExpandBatch(OnnxOperatorContext c, Tensor t, int[] batch)
    {
        var own = t.Shape.Dims[..^2].ToArray();
        if (own.AsSpan().SequenceEqual(batch) || own.All(d => d == 1)) return t;
        // t + 0 with the zeros shaped [batch…, 1, 1] materializes the broadcast (and sums it back in backward).
        return c.Tape.Add(t, c.Tape.Kernels.Allocate(new Shape([.. batch, 1, 1])));
    }
}
