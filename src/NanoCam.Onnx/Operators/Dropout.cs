using NanoCam.Elementwise;
using NanoCam.Ops;

namespace NanoCam.Onnx.Operators;

/// <summary>
/// Dropout: at inference the identity with an all-true mask. With training_mode (an input from opset 12 on) it is
/// inverted dropout, y = x·keep/(1 − ratio), keep drawn per element from the tape's counter-based generator
/// (<see cref="Autodiff.Tape.Seed"/>; the node's seed attribute cannot reproduce another runtime's draws, so it is not read).
/// A tape with <see cref="Autodiff.Tape.Training"/> set drops as in training mode whatever the node says.
/// </summary>
internal static class Dropout
{
    public static readonly OnnxOperator Operator = new("Dropout", Run);

    private static OnnxValue?[] Run(OnnxOperatorContext c)
    {
        var tape = c.Tape;
        var x = c.Input(0);
        // A training tape (fine-tuning an imported graph) drops too, at the node's ratio.
        bool training = c.Opset >= 12 && c.Has(2) && c.KnownIntegers(2) is [not 0] || tape.Training;
        float ratio = c.Opset >= 12 ? (c.Has(1) ? c.KnownScalar(1) : 0.5f) : c.Node.Float("ratio", 0.5f);
        var y = training && x.Tensor is { } t ? tape.Dropout(t, ratio, training: true) : null;
        bool wantMask = c.Node.IsOutputUsed(1);
        // Inference, or ratio 0 (where tape.Dropout records nothing and returns its input): identity, every element kept.
        if (y is null || ReferenceEquals(y, x.Tensor))
            return c.Pair(Identity.Pass(tape, x), wantMask ? OnnxValue.FromIntegers(Enumerable.Repeat(1L, x.Size).ToArray(), x.Dims, OnnxDataType.Bool) : null);
        if (!wantMask) return c.Pair(OnnxOperatorContext.Result(y), null);
        // The node's mask holds keep/(1 − ratio): kept where it is nonzero.
        var scaledMask = ((DropoutNode)tape.Nodes[tape.Count - 1]).Mask;
        var zero = tape.Kernels.Stage(Tensor.Scalar(0f));
        var keep = tape.Binary(tape.Binary(scaledMask, zero, new Equal()), zero, new Equal());
        return [OnnxOperatorContext.Result(y), OnnxOperatorContext.Result(keep, OnnxDataType.Bool)];
    }
}
