using NanoCam.Autodiff;

namespace NanoCam.Ops;

public static partial class TapeOps
{
    /// <summary>y[n,k] = b[k] + Σ_c Σ_{r,s} w[k,c,r,s] · x[n, c, y·stride + r·dilation − pad, x·stride + s·dilation − pad].</summary>
    public static Tensor Conv2d(this Tape tape, Tensor input, Tensor weight, Tensor? bias, int stride = 1, int padding = 0, int dilation = 1, int groups = 1) =>
        tape.Conv2d(input, weight, bias, Conv2dGeometry.For(input.Shape, weight.Shape, stride, padding, dilation, groups));

    public static Tensor Conv2d(this Tape tape, Tensor input, Tensor weight, Tensor? bias, Conv2dGeometry geometry)
    {
        if (bias is not null && (bias.Shape.Rank != 1 || bias.Shape[0] != geometry.OutputChannels))
            throw new ArgumentException($"conv2d: bias has shape {bias.Shape} but the weight {weight.Shape} has {geometry.OutputChannels} output channels");
        return tape.Next<Conv2dNode>().Forward(tape, input, weight, bias, geometry);
    }
}

/// <summary>A node of an input, a weight and an optional bias under a convolution's geometry (convolution and transposed convolution).</summary>
public abstract class ConvolutionNode : Node
{
    public Conv2dGeometry Geometry { get; private set; }
    public Tensor Input => Inputs[0];
    public Tensor Weight => Inputs[1];
    public Tensor? Bias => Inputs.Length > 2 ? Inputs[2] : null;

    /// <summary>Records the geometry and the inputs and returns the output of <paramref name="dims"/>.</summary>
    private protected Tensor Record(Tape tape, Tensor input, Tensor weight, Tensor? bias, Conv2dGeometry g, ReadOnlySpan<int> dims)
    {
        Geometry = g;
        SetInputs(input, weight, bias);
        return EnsureOutput(tape, dims);
    }
}

/// <summary>2-D convolution: forward through the backend's Conv2dForward, backward to input, weight and bias.</summary>
public sealed class Conv2dNode : ConvolutionNode
{
    public override string Kind => "Conv2d";

    internal Tensor Forward(Tape tape, Tensor input, Tensor weight, Tensor? bias, Conv2dGeometry g)
    {
        var output = Record(tape, input, weight, bias, g, [g.Batch, g.OutputChannels, g.OutputHeight, g.OutputWidth]);
        tape.Kernels.Conv2dForward(output, input, weight, bias, g);
        return output;
    }

    public override void Backward(IKernels kernels)
    {
        var dOutput = Output.Grad!;
        if (GradOf(Input, out bool accumulate) is { } dInput) kernels.Conv2dBackwardInput(dInput, dOutput, Weight, Geometry, accumulate);
        if (GradOf(Weight) is { } dWeight) kernels.Conv2dBackwardWeight(dWeight, dOutput, Input, Geometry);
        if (Bias is not null && GradOf(Bias) is { } dBias) kernels.Conv2dBackwardBias(dBias, dOutput);
    }

    /// <summary>Taped: ∂L/∂x = convᵀ(dy, w), ∂L/∂w = weightGrad(dy, x), ∂L/∂b = Σ_{n,y,x} dy (see Conv2dAdjoints.cs).</summary>
    public override Tensor?[] BackwardTaped(Tape tape, Tensor gradOutput)
    {
        var grads = TapedGradients();
        if (WantsGradient(tape, Input)) grads[0] = tape.Conv2dInputGradient(gradOutput, Weight, Geometry);
        if (WantsGradient(tape, Weight)) grads[1] = tape.Conv2dWeightGradient(gradOutput, Input, Geometry);
        if (Bias is { } bias && WantsGradient(tape, bias)) grads[2] = tape.Reduce(ReduceKind.Sum, gradOutput, [0, 2, 3], keepDims: false);
        return grads;
    }
}
