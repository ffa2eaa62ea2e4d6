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
        return OnnxOperatorContext.Result(c.Tape.Transpose(c.Float(0), perm), x.ElementType);
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
