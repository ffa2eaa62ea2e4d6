using NanoCam.Autodiff;

namespace NanoCam.Ops;

public static partial class TapeOps
{
    /// <summary>
    /// Transposed 2-D convolution (ONNX ConvTranspose, PyTorch conv_transpose2d), as the adjoint of a convolution:
    /// <paramref name="g"/> is the geometry of the equivalent convolution whose input is this op's output [N, Cout, H', W']
    /// and whose weight is <paramref name="weight"/> [Cin, Cout/groups, kh, kw] (so its K is Cin and its output is x's
    /// shape [N, Cin, H, W]); H' = (H − 1)·stride − padTop − padBottom + dilation·(kh − 1) + 1 + outputPadding.
    /// y[n, g·Cout/G + co, h·s − pad + i·d, w·s − pad + j·d] += x[n, ci, h, w] · W[ci, co, i, j] (ci in group g), plus bias[co].
    /// </summary>
    public static Tensor ConvTranspose2d(this Tape tape, Tensor x, Tensor weight, Tensor? bias, Conv2dGeometry g)
    {
        g.Validate();
        // Compared dimension by dimension: g.OutputShape and g.WeightShape would allocate on every pass.
        if (!Is(x.Shape, g.Batch, g.OutputChannels, g.OutputHeight, g.OutputWidth))
            throw new ArgumentException($"conv-transpose2d: input {x.Shape} does not match the equivalent convolution's output {g.OutputShape}");
        if (!Is(weight.Shape, g.OutputChannels, g.InputChannelsPerGroup, g.KernelHeight, g.KernelWidth))
            throw new ArgumentException($"conv-transpose2d: weight {weight.Shape} does not match [Cin, Cout/groups, kh, kw] = {g.WeightShape}");
        if (bias is not null && (bias.Shape.Rank != 1 || bias.Shape[0] != g.InputChannels))
            throw new ArgumentException($"conv-transpose2d: bias has shape {bias.Shape}, expected [{g.InputChannels}]");
        return tape.Next<ConvTranspose2dNode>().Forward(tape, x, weight, bias, g);
    }

    private static bool Is(Shape shape, int d0, int d1, int d2, int d3) =>
        shape.Rank == 4 && shape[0] == d0 && shape[1] == d1 && shape[2] == d2 && shape[3] == d3;
}

/// <summary>
/// Transposed convolution through the convolution kernels: forward is the convolution's input gradient
/// (Conv2dBackwardInput written, not added) plus the bias; backward is dx += conv(dy) (Conv2dForward), dW += the
/// convolution's weight gradient with the roles swapped (its dOutput is x, its input is dy), dBias += Σ_{n,h,w} dy.
/// </summary>
public sealed class ConvTranspose2dNode : ConvolutionNode
{
    private Tensor? _biasColumn;   // bias seen as [Cout, 1, 1], to broadcast over [N, Cout, H', W']
    private Tensor? _inputGradient; // conv(dy) when dx already holds gradient (Conv2dForward writes, backward adds)

    public override string Kind => "ConvTranspose2d";

    internal Tensor Forward(Tape tape, Tensor x, Tensor weight, Tensor? bias, Conv2dGeometry g)
    {
        var output = Record(tape, x, weight, bias, g, [g.Batch, g.InputChannels, g.InputHeight, g.InputWidth]);
        // y = Wᵀ ⋆ x: the adjoint of the convolution y ↦ W ⋆ y, i.e. its backward-input pass, written whole.
        tape.Kernels.Conv2dBackwardInput(output, x, weight, g, accumulate: false);
        if (bias is not null)
        {
            if (_biasColumn is null || !ReferenceEquals(_biasColumn.Buffer, bias.Buffer)) _biasColumn = new Tensor(new Shape(g.InputChannels, 1, 1), bias.Buffer);
            tape.Kernels.BinaryForward(BinaryOp.Add, output, output, _biasColumn);
        }
        return output;
    }

    public override void Backward(IKernels kernels)
    {
        var g = Geometry;
        var dOutput = Output.Grad!;
        if (GradOf(Input, out bool accumulate) is { } dInput)
        {
            // ∂L/∂x = W ⋆ dy: the convolution itself.
            if (!accumulate) kernels.Conv2dForward(dInput, dOutput, Weight, null, g);
            else
            {
                if (_inputGradient is null || _inputGradient.Shape != dInput.Shape || !ReferenceEquals(_inputGradientKernels, kernels))
                {
                    _inputGradient = kernels.Allocate(dInput.Shape);
                    _inputGradientKernels = kernels;
                }
                kernels.Conv2dForward(_inputGradient, dOutput, Weight, null, g);
                kernels.AddScaled(dInput, _inputGradient, 1f);
            }
        }
        // ∂L/∂W[ci, co, i, j] = Σ x[n, ci, h, w] · dy[n, co, h·s − pad + i·d, …]: the convolution's weight gradient with dOutput = x, input = dy.
        if (GradOf(Weight) is { } dWeight) kernels.Conv2dBackwardWeight(dWeight, Input, dOutput, g);
        if (Bias is not null && GradOf(Bias) is { } dBias) kernels.Conv2dBackwardBias(dBias, dOutput);
    }

    private IKernels? _inputGradientKernels;
}
