using NanoCam.Gpu.Kernels;

namespace NanoCam.Gpu;

public sealed partial class IlgpuKernels
{
    public void MaxPool2dForward(Tensor output, Tensor? argmax, Tensor input, Pool2dGeometry g)
    {
        CheckPool(g, output, input, "maxpool2d");
        // Values only (argmax null): the same kernel, its indices written to scratch and dropped.
        _kernels.MaxPoolForward(output.Size, View(output), argmax is null ? Scratch(output.Size) : View(argmax), View(input), PoolArgs.From(g));
    }

    public void MaxPool2dBackward(Tensor dInput, Tensor dOutput, Tensor argmax, Pool2dGeometry g, bool accumulate = true)
    {
        CheckPool(g, dOutput, dInput, "maxpool2d backward");
        if (!accumulate) Fill(dInput, 0f);
        _kernels.MaxPoolBackward(dOutput.Size, View(dInput), View(dOutput), View(argmax), PoolArgs.From(g));
    }

    public void AvgPool2dForward(Tensor output, Tensor input, Pool2dGeometry g, bool countIncludePad)
    {
        CheckPool(g, output, input, "avgpool2d");
        _kernels.AvgPoolForward(output.Size, View(output), View(input), PoolArgs.From(g, countIncludePad));
    }

    public void AvgPool2dBackward(Tensor dInput, Tensor dOutput, Pool2dGeometry g, bool countIncludePad)
    {
        CheckPool(g, dOutput, dInput, "avgpool2d backward");
        _kernels.AvgPoolBackward(dOutput.Size, View(dInput), View(dOutput), PoolArgs.From(g, countIncludePad));
    }

    private static void CheckPool(Pool2dGeometry g, Tensor output, Tensor input, string op)
    {
        if (output.Size != g.Batch * g.Channels * g.OutputHeight * g.OutputWidth) throw new ArgumentException($"{op}: output has shape {output.Shape}, expected {g.OutputShape}");
        if (!g.IsInputShape(input.Shape)) throw new ArgumentException($"{op}: input has shape {input.Shape}, expected {g.InputShape}");
    }

    public void GlobalAvgPoolForward(Tensor output, Tensor input)
    {
        int planes = input.Shape[0] * input.Shape[1], plane = input.Shape.Product(2, input.Shape.Rank);
        if (output.Size != planes) throw new ArgumentException($"global average pool: output {output.Shape} does not match input {input.Shape}");
        _kernels.GlobalAvgPoolForward(planes, View(output), View(input), plane);
    }

    public void GlobalAvgPoolBackward(Tensor dInput, Tensor dOutput, bool accumulate = true)
    {
        if (!accumulate) Fill(dInput, 0f);
        int plane = dInput.Shape.Product(2, dInput.Shape.Rank);
        if (dInput.Size > 0) _kernels.GlobalAvgPoolBackward(dInput.Size, View(dInput), View(dOutput), plane);
    }
}
