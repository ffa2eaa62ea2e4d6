using NanoCam.Onnx.Operators;

namespace NanoCam.Onnx.Planning;

/// <summary>
/// Whether a graph declared for one batch size runs a batch of N in one pass. Proof by folding: the graph is folded
/// from shapes at the declared batch b and at 2b and 3b, and every tensor that depends on the input must have N times
/// the rows at N images and the same other dimensions (a constant that ties dimension 0 to 1 — a Reshape to
/// [1, −1], a Slice of row 0 — breaks this), and no node may normalize across axis 0 (Softmax along the batch).
/// Otherwise images run one at a time. Folding needs no data, so the analysis costs three shape-only passes.
/// </summary>
public sealed record BatchAnalysis(bool Independent, string Reason)
{
    internal static BatchAnalysis Of(OnnxModel model)
    {
        if (model.Inputs.Count != 1) return new(false, $"the graph has {model.Inputs.Count} inputs; only single-input graphs are batched");
        var input = model.Inputs[0];
        if (input.Container != OnnxValueKind.Tensor || input.Dims.Count == 0 || !input.ElementType.IsFloatingPoint())
            return new(false, $"the input {input} is not a float tensor with a batch axis");
        var declared = model.DeclaredInputDims();
        int baseBatch = declared[0];
        GraphPlan at1, at2, at3;
        try
        {
            at1 = model.ShapePlan(declared);
            at2 = model.ShapePlan([2 * baseBatch, .. declared[1..]]);
            at3 = model.ShapePlan([3 * baseBatch, .. declared[1..]]);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or InvalidDataException)
        {
            return new(false, $"the graph does not fold at a batch of {2 * baseBatch}: {ex.Message}");
        }
        foreach (var node in at1.LiveNodes)
        {
            var op = OnnxOperatorRegistry.Find(node.OpType)!;
            if (op.MixesBatch is { } mixes && node.Inputs.Count > 0 && at1.Dims.TryGetValue(node.Inputs[0], out var inputDims) && mixes(node, inputDims.Length))
                return new(false, $"node {DisplayText.Quote(node.Name)} ({node.OpType}) computes across the batch axis");
            foreach (var output in node.Outputs)
            {
                if (output.Length == 0 || !at1.FromInputs.Contains(output) || !at1.Dims.TryGetValue(output, out var one)) continue;
                foreach (var (plan, factor) in new[] { (at2, 2), (at3, 3) })
                {
                    var many = plan.Dims.GetValueOrDefault(output);
                    if (many is null || !ScalesWithBatch(one, many, factor))
                        return new(false, $"node {DisplayText.Quote(node.Name)} ({node.OpType}) gives [{string.Join(", ", one)}] for {baseBatch} image(s) but [{string.Join(", ", many ?? [])}] for {factor * baseBatch}");
                }
            }
        }
        foreach (var output in model.OutputNames)
            if (!at1.FromInputs.Contains(output)) return new(false, $"output '{DisplayText.Quote(output)}' does not depend on the input");
        return new(true, $"every tensor computed from the input scales with the batch (folded at {baseBatch}, {2 * baseBatch} and {3 * baseBatch} images)");
    }

    private static bool ScalesWithBatch(int[] one, int[] many, int factor) =>
        one.Length > 0 && one.Length == many.Length && many[0] == factor * one[0] && one.AsSpan(1).SequenceEqual(many.AsSpan(1));
}
