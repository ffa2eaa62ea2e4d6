using ILGPU;
using ILGPU.Runtime;
using NanoCam.Gpu.Kernels;

namespace NanoCam.Gpu;

public sealed partial class IlgpuKernels
{
    public void SoftmaxForward(Tensor output, Tensor input, int outer, int classes, int inner)
    {
        if (outer * inner > 0) _kernels.SoftmaxForward(Reduce(outer * inner), View(output), View(input), classes, inner);
    }

    public void SoftmaxBackward(Tensor dInput, Tensor dOutput, Tensor output, int outer, int classes, int inner)
    {
        if (outer * inner > 0) _kernels.SoftmaxBackward(Reduce(outer * inner), View(dInput), View(dOutput), View(output), classes, inner);
    }

    public void LogSoftmaxForward(Tensor output, Tensor input, int outer, int classes, int inner)
    {
        if (outer * inner > 0) _kernels.LogSoftmaxForward(Reduce(outer * inner), View(output), View(input), classes, inner);
    }

    public void LogSoftmaxBackward(Tensor dInput, Tensor dOutput, Tensor output, int outer, int classes, int inner)
    {
        if (outer * inner > 0) _kernels.LogSoftmaxBackward(Reduce(outer * inner), View(dInput), View(dOutput), View(output), classes, inner);
    }

    /// <summary>
    /// Per-row losses into scratch (one group per row), then their mean by the block-reduction sum. A label that is not a
    /// class index is reported by the kernel through a one-int flag, read back here (four bytes per call).
    /// </summary>
    public void CrossEntropyForward(Tensor loss, Tensor probabilities, Tensor logits, Tensor labels, int rows, int classes)
    {
        var rowLoss = Scratch(rows);
        _badRow.View.MemSetToZero(Accelerator.DefaultStream);
        _kernels.CrossEntropyRows(Reduce(rows), rowLoss, View(probabilities), _badRow.View, View(logits), View(labels), classes);
        _kernels.Sum(Reduce(1), View(loss), rowLoss, rows, 1f / rows);
        Span<int> flag = stackalloc int[1];
        _badRow.View.CopyToCPU(Accelerator.DefaultStream, flag);
        Accelerator.DefaultStream.Synchronize();
        int bad = flag[0];
        if (bad > 0)
        {
            float value = labels.ToArray()[bad - 1];
            throw new ArgumentException($"cross-entropy: label {value} of row {bad - 1} is not a class index in [0, {classes})");
        }
    }

    public void CrossEntropyBackward(Tensor dLogits, Tensor dLoss, Tensor probabilities, Tensor labels, int rows, int classes)
    {
        if (rows * classes > 0) _kernels.CrossEntropyBackward(rows * classes, View(dLogits), View(dLoss), View(probabilities), View(labels), rows, classes);
    }

    public void Sum(Tensor output, Tensor input, float scale) =>
        _kernels.Sum(Reduce(1), View(output), View(input), input.Size, scale);

    public void SumBackward(Tensor dInput, Tensor dOutput, float scale)
    {
        if (dInput.Size > 0) _kernels.SumBackward(dInput.Size, View(dInput), View(dOutput), scale);
    }
}
