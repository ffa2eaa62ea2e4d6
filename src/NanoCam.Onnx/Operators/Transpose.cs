using NanoCam.Ops;

namespace NanoCam.Onnx.Operators;

/// <summary>Transpose: output axis i is input axis perm[i] (perm defaults to the reversed axes).</summary>
internal static class Transpose
{
    public static readonly OnnxOperator Operator = OnnxOperator.Single("Transpose", Run);

    private static OnnxValue Run(OnnxOperatorContext c)
    {
        var x = c.Input(0);
        // The work-out in a method of its own: its lambda's closure would otherwise be allocated on every call.
        var perm = c.TryRecall(out int[] recalled) ? recalled : c.Remember(Permutation(c, x));
        var t = c.Float(0);
        if (c.Fuse && KeepsOrder(t.Shape, perm))
        {
            // Only axes of one element move (a ViT's [1, 17, 32] → [17, 1, 32]): the same elements in the same order, a
            // view (with fusing off, the plain gather runs, as the walkthrough shows it).
            Span<int> dims = stackalloc int[perm.Length];
            for (int k = 0; k < perm.Length; k++) dims[k] = t.Shape[perm[k]];
            return OnnxOperatorContext.Result(c.Tape.Reshape(t, dims), x.ElementType);
        }
        return OnnxOperatorContext.Result(c.Tape.Transpose(t, perm), x.ElementType);
    }

    /// <summary>Whether the axes of more than one element keep their order under <paramref name="perm"/>.</summary>
    private static bool KeepsOrder(Shape shape, int[] perm)
    {
        int last = -1;
        foreach (int a in perm)
        {
            if (shape[a] == 1) continue;
            if (a < last) return false;
            last = a;
        }
        return true;
    }

    private static int[] Permutation(OnnxOperatorContext c, OnnxValue x)
    {
        int rank = x.Dims.Length;
        var perm = c.Node.Ints("perm")?.Select(p => (int)(p < 0 ? p + rank : p)).ToArray() ?? Enumerable.Range(0, rank).Reverse().ToArray();
        if (perm.Length != rank || perm.Order().Where((p, i) => p != i).Any())
            throw c.Invalid($"perm [{string.Join(", ", perm)}] is not a permutation of the {rank} axes of {x}");
        return perm;
    }
}
