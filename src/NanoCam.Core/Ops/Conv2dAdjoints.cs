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
/// z = convᵀ(g, w), the input gradient of a convolution. With ⟨dz, z⟩ = ⟨g, conv(dz, w)⟩ = ⟨w, weightGrad(g, dz)⟩:
/// ∂L/∂g = conv(dz, w) and ∂L/∂w = weightGrad(g, input = dz).
/// </summary>
public sealed class Conv2dInputGradientNode : Node
{
    private ConstantCache? _scratch; // allocated on first use

    public override string Kind => "Conv2dInputGradient";
    public Conv2dGeometry Geometry { get; private set; }
    public Tensor GradOutput => Inputs[0];
    public Tensor Weight => Inputs[1];

    internal Tensor Forward(Tape tape, Tensor gradOutput, Tensor weight, Conv2dGeometry g)
    {
        if (!g.IsOutputShape(gradOutput.Shape) || !g.IsWeightShape(weight.Shape))
            throw new ArgumentException($"conv2d input gradient: expected dy {g.OutputShape} and weight {g.WeightShape}, got {gradOutput.Shape} and {weight.Shape}");
        Geometry = g;
        SetInputs(gradOutput, weight);
        var output = EnsureOutput(tape, [g.Batch, g.InputChannels, g.InputHeight, g.InputWidth]);
        tape.Kernels.Conv2dBackwardInput(output, gradOutput, weight, g, accumulate: false);
        return output;
    }

    public override void Backward(IKernels kernels)
    {
        var dz = Output.Grad!;
        if (GradOf(GradOutput) is { } dg)
        {
            var convolved = (_scratch ??= new()).Of(kernels, [Geometry.Batch, Geometry.OutputChannels, Geometry.OutputHeight, Geometry.OutputWidth]);
            kernels.Conv2dForward(convolved, dz, Weight, null, Geometry);
            kernels.AddScaled(dg, convolved, 1f);
        }
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
public sealed class Conv2dWeightGradientNode : Node
{
    private ConstantCache? _scratch; // allocated on first use

    public override string Kind => "Conv2dWeightGradient";
    public Conv2dGeometry Geometry { get; private set; }
    public Tensor GradOutput => Inputs[0];
    public Tensor Input => Inputs[1];

    internal Tensor Forward(Tape tape, Tensor gradOutput, Tensor input, Conv2dGeometry g)
    {
        if (!g.IsOutputShape(gradOutput.Shape) || !g.IsInputShape(input.Shape))
            throw new ArgumentException($"conv2d weight gradient: expected dy {g.OutputShape} and input {g.InputShape}, got {gradOutput.Shape} and {input.Shape}");
        Geometry = g;
        SetInputs(gradOutput, input);
        var output = EnsureOutput(tape, [g.OutputChannels, g.InputChannelsPerGroup, g.KernelHeight, g.KernelWidth]);
        tape.Kernels.Fill(output, 0f);
        tape.Kernels.Conv2dBackwardWeight(output, gradOutput, input, g);
        return output;
    }

    public override void Backward(IKernels kernels)
    {
        var dv = Output.Grad!;
        if (GradOf(GradOutput) is { } dg)
        {
            var convolved = (_scratch ??= new()).Of(kernels, [Geometry.Batch, Geometry.OutputChannels, Geometry.OutputHeight, Geometry.OutputWidth]);
            kernels.Conv2dForward(convolved, Input, dv, null, Geometry);
            kernels.AddScaled(dg, convolved, 1f);
        }
        if (GradOf(Input) is { } dx) kernels.Conv2dBackwardInput(dx, GradOutput, dv, Geometry, accumulate: true);
    }

    public override Tensor?[] BackwardTaped(Tape tape, Tensor gradOutput) =>
    TapedGradients(
        WantsGradient(tape, GradOutput) ? tape.Conv2d(Input, gradOutput, null, Geometry) : null,
        WantsGradient(tape, Input) ? tape.Conv2dInputGradient(GradOutput, gradOutput, Geometry) : null
    );
}
