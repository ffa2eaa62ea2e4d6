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
            if (c.TryRecall(out Expansion e))
                return OnnxOperatorContext.Result(tape.BatchedMatMul(e.A is null ? a : tape.Expand(a, e.A), e.B is null ? b : tape.Expand(b, e.B)));
            var batch = TapeOps.BroadcastShape(new Shape(a.Shape.Dims[..^2].ToArray()), new Shape(b.Shape.Dims[..^2].ToArray()), "matmul");
            var (ea, eb) = (ExpandBatch(c, a, batch), ExpandBatch(c, b, batch));
            c.Remember(new Expansion(ReferenceEquals(ea, a) ? null : ea.Shape.ToArray(), ReferenceEquals(eb, b) ? null : eb.Shape.ToArray()));
            (a, b) = (ea, eb);
        }
        return OnnxOperatorContext.Result(tape.BatchedMatMul(a, b));
    }

    /// <summary>The shapes the operands are expanded to (null: used as they are).</summary>
    private sealed record Expansion(int[]? A, int[]? B);

    private static Tensor ExpandBatch(OnnxOperatorContext c, Tensor t, int[] batch)
    {
        var own = t.Shape.Dims[..^2].ToArray();
        if (own.AsSpan().SequenceEqual(batch) || own.All(d => d == 1)) return t;
        // The broadcast made real (and summed back in backward).
        return c.Tape.Expand(t, [.. batch, t.Shape[t.Shape.Rank - 2], t.Shape[t.Shape.Rank - 1]]);
    }
}
