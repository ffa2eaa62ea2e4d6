using NanoCam.Gpu.Kernels;

namespace NanoCam.Gpu;

public sealed partial class IlgpuKernels
{
    public void DropoutForward(Tensor output, Tensor mask, Tensor input, float probability, ulong seed)
    {
        float keepScale = probability >= 1 ? 0 : 1f / (1 - probability);
        if (input.Size > 0) _kernels.Dropout(input.Size, View(output), View(mask), View(input), probability, keepScale, seed);
    }

    public void ConcatForward(Tensor output, Tensor input, int axis, int offset)
    {
        var (inputBlock, outputBlock, start) = ConcatDims(output, input, axis, offset);
        if (input.Size > 0) _kernels.ConcatForward(input.Size, View(output), View(input), inputBlock, outputBlock, start);
    }

    public void ConcatBackward(Tensor dInput, Tensor dOutput, int axis, int offset)
    {
        var (inputBlock, outputBlock, start) = ConcatDims(dOutput, dInput, axis, offset);
        if (dInput.Size > 0) _kernels.ConcatBackward(dInput.Size, View(dInput), View(dOutput), inputBlock, outputBlock, start);
    }

    /// <summary>Both tensors as [outer, block]; the input's block starts at offset·inner inside each output block.</summary>
    private static (int InputBlock, int OutputBlock, int Start) ConcatDims(Tensor output, Tensor input, int axis, int offset) =>
        (input.Shape.Product(axis, input.Shape.Rank), output.Shape.Product(axis, output.Shape.Rank), offset * input.Shape.Product(axis + 1, input.Shape.Rank));

    public void SgdStep(Tensor parameter, Tensor gradient, Tensor velocity, float learningRate, float momentum, float weightDecay)
    {
        if (parameter.Size > 0) _kernels.Sgd(parameter.Size, View(parameter), View(gradient), View(velocity), learningRate, momentum, weightDecay);
    }

    public void AdamStep(Tensor parameter, Tensor gradient, Tensor m, Tensor v, float learningRate, float beta1, float beta2, float epsilon, float weightDecay, int step)
    {
        var args = new AdamArgs(learningRate, beta1, beta2, epsilon, weightDecay, 1 - MathF.Pow(beta1, step), 1 - MathF.Pow(beta2, step));
        if (parameter.Size > 0) _kernels.Adam(parameter.Size, View(parameter), View(gradient), View(m), View(v), args);
    }
}
