using NanoCam.Autodiff;
using NanoCam.Ops;

namespace NanoCam.Onnx.Operators;

/// <summary>
/// Einsum with any number of operands, contracted left to right two at a time. For a pair, each index is a batch index
/// (in both operands and still needed), a contracted index (in both, no longer needed), kept by one side, or summed
/// alone (in one operand only and no longer needed); the pair becomes one batched matrix product
/// [batch, keptA, contracted]·[batch, contracted, keptB] after a Reduce for the lone sums and Transposes into that order.
/// An ellipsis (…) stands for the same broadcast axes in every operand; an index repeated within one operand (a diagonal)
/// is refused.
/// </summary>
internal static class Einsum
{
    public static readonly OnnxOperator Operator = OnnxOperator.Single("Einsum", Run) with { SinceOpset = 12 };

    /// <summary>Labels of the ellipsis axes: Ellipsis + k for the k-th of the broadcast axes (letters are their char codes).</summary>
    private const int Ellipsis = 1 << 16;

    private static OnnxValue Run(OnnxOperatorContext c)
    {
        var operands = Enumerable.Range(0, c.InputCount).Select(c.Float).ToList();
        var (inputs, output) = Parse(c, c.Node.String("equation", ""), operands.Select(t => t.Shape.Rank).ToArray());
        var sizes = Sizes(c, operands, inputs);
        var tape = c.Tape;
        var terms = new List<(Tensor Tensor, int[] Labels)>();
        for (int i = 0; i < operands.Count; i++)
        {
            // An ellipsis axis of size 1 broadcasts against the other operands' size.
            var dims = inputs[i].Select(l => sizes[l]).ToArray();
            var t = operands[i].Shape.Dims.SequenceEqual(dims) ? operands[i] : tape.Expand(operands[i], dims);
            terms.Add((t, inputs[i]));
        }
        var (result, labels) = terms[0];
        for (int i = 1; i < terms.Count; i++)
        {
            // Needed later: in the output or in an operand still to come.
            var needed = output.Concat(terms.Skip(i + 1).SelectMany(t => t.Labels)).ToHashSet();
            (result, labels) = Contract(tape, (result, labels), terms[i], needed, sizes);
        }
        (result, labels) = SumAlone(tape, result, labels, [.. output]);
        result = Permute(tape, result, labels, output);
        return OnnxOperatorContext.Result(result, c.Input(0).ElementType);
    }

    /// <summary>
    /// The product of two terms with the labels not in <paramref name="needed"/> summed out, labelled batch, keptA, keptB:
    /// out[b, i, j] = Σ_k A[b, i, k]·B[b, k, j].
    /// </summary>
    private static (Tensor, int[]) Contract(Tape tape, (Tensor Tensor, int[] Labels) a, (Tensor Tensor, int[] Labels) b, HashSet<int> needed, Dictionary<int, int> sizes)
    {
        var (ta, la) = SumAlone(tape, a.Tensor, a.Labels, [.. needed, .. b.Labels]);
        var (tb, lb) = SumAlone(tape, b.Tensor, b.Labels, [.. needed, .. la]);
        int[] batch = [.. la.Where(l => lb.Contains(l) && needed.Contains(l))];
        int[] contracted = [.. la.Where(l => lb.Contains(l) && !needed.Contains(l))];
        int[] keptA = [.. la.Where(l => !lb.Contains(l))];
        int[] keptB = [.. lb.Where(l => !la.Contains(l))];
        int Count(int[] labels) => labels.Aggregate(1, (p, l) => p * sizes[l]);
        int bt = Count(batch), m = Count(keptA), k = Count(contracted), n = Count(keptB);
        var left = Permute(tape, ta, la, [.. batch, .. keptA, .. contracted]);
        var right = Permute(tape, tb, lb, [.. batch, .. contracted, .. keptB]);
        var product = batch.Length == 0
            ? tape.MatMul(tape.Reshape(left, [m, k]), tape.Reshape(right, [k, n]))
            : tape.BatchedMatMul(tape.Reshape(left, [bt, m, k]), tape.Reshape(right, [bt, k, n]));
        int[] labels = [.. batch, .. keptA, .. keptB];
        return (tape.Reshape(product, labels.Select(l => sizes[l]).ToArray()), labels);
    }

    /// <summary>Sums out (ReduceSum) the axes whose labels are not in <paramref name="keep"/>.</summary>
    private static (Tensor, int[]) SumAlone(Tape tape, Tensor t, int[] labels, HashSet<int> keep)
    {
        var summed = Enumerable.Range(0, labels.Length).Where(i => !keep.Contains(labels[i])).ToArray();
        if (summed.Length == 0) return (t, labels);
        return (tape.Reduce(ReduceKind.Sum, t, summed, keepDims: false), [.. labels.Where(keep.Contains)]);
    }

    /// <summary>The axes of <paramref name="t"/> (labelled <paramref name="labels"/>) reordered as <paramref name="order"/>.</summary>
    private static Tensor Permute(Tape tape, Tensor t, int[] labels, int[] order)
    {
        var perm = order.Select(l => Array.IndexOf(labels, l)).ToArray();
        return perm.Select((p, i) => p == i).All(same => same) ? t : tape.Transpose(t, perm);
    }

    /// <summary>Each label's size; a letter must have one size everywhere, an ellipsis axis may be 1 in some operands.</summary>
    private static Dictionary<int, int> Sizes(OnnxOperatorContext c, List<Tensor> operands, int[][] inputs)
    {
        var sizes = new Dictionary<int, int>();
        for (int i = 0; i < operands.Count; i++)
            for (int a = 0; a < inputs[i].Length; a++)
            {
                int label = inputs[i][a], size = operands[i].Shape[a];
                if (!sizes.TryGetValue(label, out int seen) || seen == 1 && label >= Ellipsis) sizes[label] = size;
                else if (seen != size && !(size == 1 && label >= Ellipsis))
                    throw c.Invalid($"index {Describe(label)} has size {seen} in one operand and {size} in operand {i}");
            }
        return sizes;
    }

    /// <summary>
    /// The labels of each operand's axes and of the output. Without "->" the output is the ellipsis axes followed by the
    /// letters that appear once, in alphabetical order (NumPy's implicit mode).
    /// </summary>
    private static (int[][] Inputs, int[] Output) Parse(OnnxOperatorContext c, string equation, int[] ranks)
    {
        var text = string.Concat(equation.Where(ch => !char.IsWhiteSpace(ch)));
        int arrow = text.IndexOf("->", StringComparison.Ordinal);
        var terms = (arrow < 0 ? text : text[..arrow]).Split(',');
        if (terms.Length != ranks.Length) throw c.Invalid($"equation '{DisplayText.Quote(equation)}' has {terms.Length} operands but the node has {ranks.Length} inputs");
        var parsed = terms.Select(t => Letters(c, t, equation)).ToArray();
        // The ellipsis spans the axes the letters leave; operands with fewer such axes align to the right.
        int ellipsisRank = 0;
        for (int i = 0; i < parsed.Length; i++)
        {
            int letters = parsed[i].Labels.Count, spare = ranks[i] - letters;
            if (spare < 0 || (spare > 0 && parsed[i].EllipsisAt < 0))
                throw c.Invalid($"operand {i} '{DisplayText.Quote(terms[i])}' names {letters} axes but has rank {ranks[i]}");
            ellipsisRank = Math.Max(ellipsisRank, spare);
        }
        var inputs = new int[parsed.Length][];
        for (int i = 0; i < parsed.Length; i++)
        {
            var (labels, at) = parsed[i];
            int spare = ranks[i] - labels.Count;
            inputs[i] = at < 0 ? [.. labels] : [.. labels.Take(at), .. Enumerable.Range(ellipsisRank - spare, spare).Select(k => Ellipsis + k), .. labels.Skip(at)];
            if (inputs[i].Distinct().Count() != inputs[i].Length)
                throw c.Unsupported($"operand {i} '{DisplayText.Quote(terms[i])}' repeats an index (a diagonal), which NanoCam's Einsum does not take");
        }
        int[] ellipsis = [.. Enumerable.Range(0, ellipsisRank).Select(k => Ellipsis + k)];
        int[] output;
        if (arrow < 0)
        {
            var counts = inputs.SelectMany(l => l).Where(l => l < Ellipsis).GroupBy(l => l).ToDictionary(g => g.Key, g => g.Count());
            output = [.. ellipsis, .. counts.Where(p => p.Value == 1).Select(p => p.Key).Order()];
        }
        else
        {
            var (labels, at) = Letters(c, text[(arrow + 2)..], equation);
            output = at < 0 ? [.. labels] : [.. labels.Take(at), .. ellipsis, .. labels.Skip(at)];
            if (output.Distinct().Count() != output.Length) throw c.Invalid($"the output of '{DisplayText.Quote(equation)}' repeats an index");
            foreach (var label in output)
                if (!inputs.Any(i => i.Contains(label)))
                    throw c.Invalid($"output index {Describe(label)} of '{DisplayText.Quote(equation)}' is in no operand");
        }
        return (inputs, output);
    }

    /// <summary>The letters of one term as labels, and where its ellipsis stands among them (−1 when it has none).</summary>
    private static (List<int> Labels, int EllipsisAt) Letters(OnnxOperatorContext c, string term, string equation)
    {
        var labels = new List<int>();
        int at = -1;
        for (int i = 0; i < term.Length; i++)
        {
            if (at < 0 && term.AsSpan(i).StartsWith("..."))
            {
                at = labels.Count;
                i += 2;
            }
            else if (char.IsAsciiLetter(term[i])) labels.Add(term[i]);
            else throw c.Invalid($"equation '{DisplayText.Quote(equation)}': unexpected '{term[i]}' in '{DisplayText.Quote(term)}'");
        }
        return (labels, at);
    }

    private static string Describe(int label) => label >= Ellipsis ? $"… axis {label - Ellipsis}" : $"'{(char)label}'";
}
