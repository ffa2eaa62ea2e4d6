using NanoCam.Autodiff;

namespace NanoCam.Ops;

public static partial class TapeOps
{
    /// <summary>Σ of all elements, a scalar.</summary>
    public static Tensor Sum(this Tape tape, Tensor input) => tape.Next<SumNode>().Forward(tape, input, 1f);

    /// <summary>Mean of all elements, a scalar.</summary>
    public static Tensor Mean(this Tape tape, Tensor input) => tape.Next<SumNode>().Forward(tape, input, 1f / input.Size);
}

/// <summary>scale·Σx; backward: ∂/∂x_i = scale.</summary>
public sealed class SumNode : Node
{
    public override string Kind => "Sum";
    public float Scale { get; private set; }
    public Tensor Input => Inputs[0];

    internal Tensor Forward(Tape tape, Tensor input, float scale)
    {
        Scale = scale;
        SetInputs(input);
        var output = EnsureOutput(tape, []);
        tape.Kernels.Sum(output, input, scale);
        return output;
    }

    public override void Backward(IKernels kernels)
    {
        if (GradOf(Input) is { } dInput) kernels.SumBackward(dInput, Output.Grad!, Scale);
    }

    private ConstantCache? _scale; // made by the taped rule only: first-order passes never allocate it

    /// <summary>Taped: the scalar dy times a constant of the input's shape filled with the scale.</summary>
    public override Tensor?[] BackwardTaped(Tape tape, Tensor gradOutput) =>
        TapedGradients(WantsGradient(tape, Input) ? tape.Mul(gradOutput, (_scale ??= new()).Filled(tape.Kernels, Input.Shape.Dims, Scale)) : null);
}
