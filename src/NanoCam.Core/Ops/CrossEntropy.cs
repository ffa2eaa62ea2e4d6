using NanoCam.Autodiff;

namespace NanoCam.Ops;

public static partial class TapeOps
{
    /// <summary>
    /// Mean cross-entropy L = −(1/N) Σ_n log softmax(logits_n)[label_n], logits [N, classes], labels [N] holding class indices.
    /// Returns a scalar tensor.
    /// </summary>
    public static Tensor CrossEntropy(this Tape tape, Tensor logits, Tensor labels)
    {
        if (logits.Shape.Rank != 2) throw new ArgumentException($"cross-entropy: logits must be [N, classes], got {logits.Shape}");
        if (labels.Shape.Rank != 1 || labels.Shape[0] != logits.Shape[0])
            throw new ArgumentException($"cross-entropy: labels must be [{logits.Shape[0]}] for logits {logits.Shape}, got {labels.Shape}");
        return tape.Next<CrossEntropyNode>().Forward(tape, logits, labels);
    }
}

/// <summary>Softmax cross-entropy fused: backward is (softmax − onehot)/N, exact and stable.</summary>
public sealed class CrossEntropyNode : Node
{
    private Tensor? _probabilities;

    public override string Kind => "CrossEntropy";
    public Tensor Logits => Inputs[0];
    public Tensor Labels => Inputs[1];
    /// <summary>softmax(logits), kept for backward and for reading accuracy without another pass.</summary>
    public Tensor Probabilities => _probabilities!;

    internal Tensor Forward(Tape tape, Tensor logits, Tensor labels)
    {
        SetInputs(logits, labels);
        var loss = EnsureOutput(tape, []);
        if (_probabilities is null || _probabilities.Shape != logits.Shape) _probabilities = tape.Kernels.Allocate(logits.Shape);
        tape.Kernels.CrossEntropyForward(loss, _probabilities, logits, labels, logits.Shape[0], logits.Shape[1]);
        return loss;
    }

    public override void Backward(IKernels kernels)
    {
        if (GradOf(Logits) is { } dLogits)
            kernels.CrossEntropyBackward(dLogits, Output.Grad!, _probabilities!, Labels, Logits.Shape[0], Logits.Shape[1]);
    }
}
