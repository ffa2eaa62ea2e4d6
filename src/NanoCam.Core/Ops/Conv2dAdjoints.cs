using NanoCam.Autodiff;

namespace NanoCam.Ops;

public static partial class TapeOps
{
    /// <summary>
    /// ∂L/∂x of a convolution as a taped op: the transposed convolution of <paramref name="gradOutput"/> [N, K, OH, OW]
    /// by <paramref name="weight"/>, shaped as the geometry's input. Convolution is bilinear in (x, w), so this op, the
    /// convolution and <see cref="Conv2dWeightGradient"/> are each other's backward rules (second-order gradients).
    /// </summary>
    public static Tensor Conv2dInputGradient(this Tape tape, Tensor gradOutput, Tensor weight, Conv2dGeometry geometry) =>
        tape.Next<Conv2dInputGradientNode>().Forward(tape, gradOutput, weight, geometry);

    /// <summary>∂L/∂w of a convolution as a taped op: Σ over the batch and positions of dy ⊗ the input window, shaped as the weight.</summary>
    public static Tensor Conv2dWeightGradient(this Tape tape, Tensor gradOutput, Tensor input, Conv2dGeometry geometry) =>
        tape.Next<Conv2dWeightGradientNode>().Forward(tape, gradOutput, input, geometry);
}

/// <summary>
/// The two adjoints of a convolution as taped ops (its input and its weight gradient): each reads dy and one other
/// operand under the convolution's geometry, and each backward rule adds a convolution to ∂L/∂dy.
/// </summary>
public abstract class Conv2dAdjointNode : Node
{
    private ConstantCache? _scratch; // allocated on first use

    public Conv2dGeometry Geometry { get; private set; }
    public Tensor GradOutput => Inputs[0];

    /// <summary>Records the geometry and the inputs (dy, then the other operand) and returns the output of <paramref name="dims"/>.</summary>
    private protected Tensor Record(Tape tape, Tensor gradOutput, Tensor other, Conv2dGeometry g, ReadOnlySpan<int> dims)
    {
        Geometry = g;
        SetInputs(gradOutput, other);
        return EnsureOutput(tape, dims);
    }

    /// <summary>∂L/∂dy += conv(<paramref name="input"/>, <paramref name="weight"/>), through a buffer kept from pass to pass.</summary>
    private protected void AddConvolution(IKernels kernels, Tensor gradOfGradOutput, Tensor input, Tensor weight)
    {
        var convolved = (_scratch ??= new()).Of(kernels, [Geometry.Batch, Geometry.OutputChannels, Geometry.OutputHeight, Geometry.OutputWidth]);
        kernels.Conv2dForward(convolved, input, weight, null, Geometry);
        kernels.AddScaled(gradOfGradOutput, convolved, 1f);
    }
}

/// <summary>
/// z = convᵀ(g, w), the input gradient of a convolution. With ⟨dz, z⟩ = ⟨g, conv(dz, w)⟩ = ⟨w, weightGrad(g, dz)⟩:
/// ∂L/∂g = conv(dz, w) and ∂L/∂w = weightGrad(g, input = dz).
/// </summary>
public sealed class Conv2dInputGradientNode : Conv2dAdjointNode
{
    public override string Kind => "Conv2dInputGradient";
    public Tensor Weight => Inputs[1];

    internal Tensor Forward(Tape tape, Tensor gradOutput, Tensor weight, Conv2dGeometry g)
    {
        if (!g.IsOutputShape(gradOutput.Shape) || !g.IsWeightShape(weight.Shape))
            throw new ArgumentException($"conv2d input gradient: expected dy {g.OutputShape} and weight {g.WeightShape}, got {gradOutput.Shape} and {weight.Shape}");
        var output = Record(tape, gradOutput, weight, g, [g.Batch, g.InputChannels, g.InputHeight, g.InputWidth]);
        tape.Kernels.Conv2dBackwardInput(output, gradOutput, weight, g, accumulate: false);
        return output;
    }

    public override void Backward(IKernels kernels)
    {
        var dz = Output.Grad!;
        if (GradOf(GradOutput) is { } dg) AddConvolution(kernels, dg, dz, Weight);
        if (GradOf(Weight) is { } dw) kernels.Conv2dBackwardWeight(dw, GradOutput, dz, Geometry);
    }

    public override Tensor?[] BackwardTaped(Tape tape, Tensor gradOutput) =>
    TapedGradients(
        WantsGradient(tape, GradOutput) ? tape.Conv2d(gradOutput, Weight, null, Geometry) : null,
        WantsGradient(tape, Weight) ? tape.Conv2dWeightGradient(GradOutput, gradOutput, Geometry) : null
    );
}

/// <summary>
/// v = weightGrad(g, x), the weight gradient of a convolution. With ⟨dv, v⟩ = ⟨g, conv(x, dv)⟩ = ⟨x, convᵀ(g, dv)⟩:
/// ∂L/∂g = conv(x, dv) and ∂L/∂x = convᵀ(g, dv).
/// </summary>
public sealed class Conv2dWeightGradientNode : Conv2dAdjointNode
{
    public override string Kind => "Conv2dWeightGradient";
    public Tensor Input => Inputs[1];

    internal Tensor Forward(Tape tape, Tensor gradOutput, Tensor input, Conv2dGeometry g)
    {
        if (!g.IsOutputShape(gradOutput.Shape) || !g.IsInputShape(input.Shape))
            throw new ArgumentException($"conv2d weight gradient: expected dy {g.OutputShape} and input {g.InputShape}, got {gradOutput.Shape} and {input.Shape}");
        var output = Record(tape, gradOutput, input, g, [g.OutputChannels, g.InputChannelsPerGroup, g.KernelHeight, g.KernelWidth]);
        tape.Kernels.Fill(output, 0f);
        tape.Kernels.Conv2dBackwardWeight(output, gradOutput, input, g);
        return output;
    }

    public override void Backward(IKernels kernels)
    {
        var dv = Output.Grad!;
        if (GradOf(GradOutput) is { } dg) AddConvolution(kernels, dg, Input, dv);
        if (GradOf(Input) is { } dx) kernels.Conv2dBackwardInput(dx, GradOutput, dv, Geometry, accumulate: true);
    }

    public override Tensor?[] BackwardTaped(Tape tape, Tensor gradOutput) =>
    TapedGradients(
        WantsGradient(tape, GradOutput) ? tape.Conv2d(Input, gradOutput, null, Geometry) : null,
        WantsGradient(tape, Input) ? tape.Conv2dInputGradient(GradOutput, gradOutput, Geometry) : null
    );
}
