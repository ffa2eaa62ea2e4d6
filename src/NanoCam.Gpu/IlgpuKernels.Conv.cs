using NanoCam.Gpu.Kernels;

namespace NanoCam.Gpu;

public sealed partial class IlgpuKernels
{
    public void Conv2dForward(Tensor output, Tensor input, Tensor weight, Tensor? bias, Conv2dGeometry g)
    {
        CheckConv(g, output, input, weight);
        if (!UsesTiledKernels)
        {
            _kernels.ConvForwardDirect(g.OutputSize, View(output), View(input), View(weight), ViewOrNone(bias), bias is null ? 0 : 1, g);
            return;
        }
        _kernels.ConvForward(TiledProduct.Config(g.OutputChannelsPerGroup, g.Batch * g.OutputHeight * g.OutputWidth, g.Groups),
            View(output), View(input), View(weight), ViewOrNone(bias), bias is null ? 0 : 1, g);
    }

    public void Conv2dBackwardInput(Tensor dInput, Tensor dOutput, Tensor weight, Conv2dGeometry g, bool accumulate = true)
    {
        CheckConv(g, dOutput, dInput, weight);
        if (!accumulate) Fill(dInput, 0f);
        _kernels.ConvBackwardInput(g.InputSize, View(dInput), View(dOutput), View(weight), g);
    }

    public void Conv2dBackwardWeight(Tensor dWeight, Tensor dOutput, Tensor input, Conv2dGeometry g)
    {
        CheckConv(g, dOutput, input, dWeight);
        _kernels.ConvBackwardWeight(g.WeightSize, View(dWeight), View(dOutput), View(input), g);
    }

    public void Conv2dBackwardBias(Tensor dBias, Tensor dOutput)
    {
        int batch = dOutput.Shape[0], channels = dOutput.Shape[1], plane = dOutput.Shape.Product(2, dOutput.Shape.Rank);
        if (dBias.Size != channels) throw new ArgumentException($"conv2d: bias gradient has shape {dBias.Shape}, expected [{channels}]");
        _kernels.ConvBackwardBias(channels, View(dBias), View(dOutput), batch, channels, plane);
    }

    private static void CheckConv(Conv2dGeometry g, Tensor output, Tensor input, Tensor weight)
    {
        if (output.Size != g.OutputSize) throw new ArgumentException($"conv2d: output has shape {output.Shape}, expected {g.OutputShape}");
        if (input.Size != g.InputSize) throw new ArgumentException($"conv2d: input has shape {input.Shape}, expected {g.InputShape}");
        if (weight.Size != g.WeightSize) throw new ArgumentException($"conv2d: weight has shape {weight.Shape}, expected {g.WeightShape}");
    }

    public void Gemm(Tensor c, Tensor a, Tensor b, GemmShape s)
    {
        if (s.M == 0 || s.N == 0 || s.Batch == 0) return;
        if (!UsesTiledKernels)
        {
            _kernels.GemmDirect(s.Batch * s.M * s.N, View(c), View(a), View(b), GemmArgs.From(s));
            return;
        }
        _kernels.Gemm(TiledProduct.Config(s.M, s.N, s.Batch), View(c), View(a), View(b), GemmArgs.From(s));
    }
}
