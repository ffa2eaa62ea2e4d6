using NanoCam.Autodiff;

namespace NanoCam.Ops;

public static partial class TapeOps
{
    /// <summary>
    /// Inverted dropout: in training each element is zeroed with probability p and the rest scaled by 1/(1−p);
    /// outside training it is the identity (and records nothing).
    /// </summary>
    public static Tensor Dropout(this Tape tape, Tensor input, float probability, bool training)
    {
        if (probability is < 0f or >= 1f) throw new ArgumentException($"dropout: probability {probability} must be in [0, 1)");
        if (!training || probability == 0f) return input;
        return tape.Next<DropoutNode>().Forward(tape, input, probability);
    }
}

/// <summary>Dropout; the mask (0 or 1/(1−p)) is drawn from a counter-based hash of the tape's seed and pass.</summary>
public sealed class DropoutNode : Node
{
    private Tensor? _mask;

    public override string Kind => "Dropout";
    public Tensor Input => Inputs[0];
    public Tensor Mask => _mask!;

    internal Tensor Forward(Tape tape, Tensor input, float probability)
    {
        SetInputs(input);
        var output = EnsureOutput(tape, input.Shape.Dims);
        if (_mask is null || _mask.Shape != input.Shape) _mask = tape.Kernels.Allocate(input.Shape);
        tape.Kernels.DropoutForward(output, _mask, input, probability, tape.NextRandomSeed());
        return output;
    }

    public override void Backward(IKernels kernels)
    {
        if (GradOf(Input) is { } dInput) kernels.BinaryBackward(BinaryOp.Mul, dInput, null, Output.Grad!, Input, _mask!);
    }
}
