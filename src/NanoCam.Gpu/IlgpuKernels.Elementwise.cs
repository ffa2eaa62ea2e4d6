using NanoCam.Gpu.Kernels;

namespace NanoCam.Gpu;

public sealed partial class IlgpuKernels
{
    public void ActivationForward(Activation kind, Tensor output, Tensor input, ActivationParams p)
    {
        SameSize(output, input, "activation");
        if (input.Size > 0) _kernels.ActivationForward(input.Size, View(output), View(input), (int)kind, p);
    }

    public void ActivationBackward(Activation kind, Tensor dInput, Tensor dOutput, Tensor input, Tensor output, ActivationParams p)
    {
        SameSize(dInput, dOutput, "activation backward");
        if (dInput.Size > 0) _kernels.ActivationBackward(dInput.Size, View(dInput), View(dOutput), View(input), View(output), (int)kind, p);
    }

    public void ReluBackward(ReluBackwardRule rule, Tensor dInput, Tensor dOutput, Tensor input, bool accumulate = true)
    {
        SameSize(dInput, dOutput, "relu backward");
        if (!accumulate) Fill(dInput, 0f);
        if (dInput.Size > 0) _kernels.ReluBackward(dInput.Size, View(dInput), View(dOutput), View(input), (int)rule);
    }

    public void BinaryForward(BinaryOp op, Tensor output, Tensor a, Tensor b)
    {
        var map = new BroadcastIndex(output.Shape, a.Shape, b.Shape);
        if (output.Size > 0) _kernels.BinaryForward(output.Size, View(output), View(a), View(b), (int)op, map);
    }

    public void BinaryBackward(BinaryOp op, Tensor? dA, Tensor? dB, Tensor dOutput, Tensor a, Tensor b)
    {
        if (dA is null && dB is null || dOutput.Size == 0) return;
        var map = new BroadcastIndex(dOutput.Shape, a.Shape, b.Shape);
        var targets = new BinaryTargets(dA is null ? 0 : 1, dB is null ? 0 : 1, a.Size == dOutput.Size ? 1 : 0, b.Size == dOutput.Size ? 1 : 0);
        _kernels.BinaryBackward(dOutput.Size, ViewOrNone(dA), ViewOrNone(dB), View(dOutput), View(a), View(b), (int)op, map, targets);
    }
}
