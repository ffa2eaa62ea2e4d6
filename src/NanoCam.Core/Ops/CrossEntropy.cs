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

    private ConstantCache? _oneHot; // made by the taped rule only: first-order passes never allocate it
    private float[] _labels = [];
    private Tensor? _oneHotHost;

    /// <summary>
    /// Taped: ∂L/∂logits = (softmax(logits) − onehot) · dL / N, the softmax recomputed as a taped op so that it
    /// differentiates again (its Hessian diag(p) − p pᵀ per row); the labels are constants.
    /// </summary>
    public override Tensor?[] BackwardTaped(Tape tape, Tensor gradOutput)
    {
        if (!WantsGradient(tape, Logits)) return TapedGradients(null, null);
        int rows = Logits.Shape[0], classes = Logits.Shape[1];
        if (_oneHotHost is null || _oneHotHost.Shape != Logits.Shape) _oneHotHost = Tensor.Zeros(rows, classes);
        if (_labels.Length != rows) _labels = new float[rows];
        Labels.Buffer.CopyTo(_labels);
        var values = _oneHotHost.Span;
        values.Clear();
        for (int i = 0; i < rows; i++) values[i * classes + (int)_labels[i]] = 1f;
        var oneHot = (_oneHot ??= new()).Of(tape.Kernels, Logits.Shape.Dims);
        oneHot.Buffer.CopyFrom(values);
        var residual = tape.Sub(tape.Softmax(Logits, axis: 1), oneHot);
        return TapedGradients(tape.Mul(residual, tape.Unary(gradOutput, new Elementwise.Scale(1f / rows))), null);
    }
}
