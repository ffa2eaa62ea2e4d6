namespace NanoCam.Onnx.Operators;

/// <summary>How one ONNX operator runs a node: its outputs in order (null for an optional output it does not produce).</summary>
internal delegate OnnxValue?[] OnnxOperatorRun(OnnxOperatorContext context);

/// <summary>
/// One entry of the operator registry: the ONNX op type, the opset versions whose semantics it implements, and how it
/// runs. What the folding pass needs to know about the operator is said here too.
/// </summary>
/// <param name="OpType">The op type in the default (ai.onnx) domain.</param>
/// <param name="Run">The operator's semantics on the tape.</param>
internal sealed record OnnxOperator(string OpType, OnnxOperatorRun Run)
{
    /// <summary>The oldest opset whose semantics <see cref="Run"/> implements (older nodes are refused in one line).</summary>
    public int SinceOpset { get; init; } = 1;

    /// <summary>The output depends on the inputs' shapes only (Shape, Size): folded to a constant even when the input is data.</summary>
    public bool ReadsShapesOnly { get; init; }

    /// <summary>
    /// Whether a node combines values across axis 0 of its first input while keeping its shape (Softmax along axis 0), so
    /// that a batch of N is not N independent images; given the node and its first input's rank. Operators that change
    /// axis 0's size (Concat, Reduce, Flatten, …) need no rule: the batch check sees it in the shapes.
    /// </summary>
    public Func<OnnxNode, int, bool>? MixesBatch { get; init; }

    /// <summary>A single-output operator: <paramref name="run"/> returns its one value.</summary>
    public static OnnxOperator Single(string opType, Func<OnnxOperatorContext, OnnxValue> run) => new(opType, c => c.Single(run(c)));
}
