using NanoCam.Gpu.Kernels;

namespace NanoCam.Gpu;

public sealed partial class IlgpuKernels
{
    public void BatchNormForwardTraining(Tensor output, Tensor savedMean, Tensor savedInvStd, Tensor runningMean, Tensor runningVar,
        Tensor input, Tensor gamma, Tensor beta, float momentum, float epsilon)
    {
        var (batch, channels, plane) = BatchNormLayout(input);
        _kernels.BatchNormStatistics(Reduce(channels), View(savedMean), View(savedInvStd), View(runningMean), View(runningVar),
            View(input), batch, channels, plane, momentum, epsilon);
        _kernels.BatchNormNormalize(input.Size, View(output), View(input), View(gamma), View(beta), View(savedMean), View(savedInvStd), channels, plane);
    }

    public void BatchNormForwardInference(Tensor output, Tensor savedInvStd, Tensor input, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, float epsilon)
    {
        var (_, channels, plane) = BatchNormLayout(input);
        _kernels.BatchNormInverseStd(channels, View(savedInvStd), View(runningVar), epsilon);
        _kernels.BatchNormNormalize(input.Size, View(output), View(input), View(gamma), View(beta), View(runningMean), View(savedInvStd), channels, plane);
    }

    public void BatchNormBackward(Tensor? dInput, Tensor? dGamma, Tensor? dBeta, Tensor dOutput, Tensor input, Tensor gamma, Tensor mean, Tensor invStd, bool batchStatistics)
    {
        var (batch, channels, plane) = BatchNormLayout(input);
        var sums = Scratch(2 * channels);
        _kernels.BatchNormGradientSums(Reduce(channels), sums, ViewOrNone(dGamma), ViewOrNone(dBeta), View(dOutput), View(input),
            View(mean), View(invStd), batch, channels, plane, dGamma is null ? 0 : 1, dBeta is null ? 0 : 1);
        if (dInput is not null)
            _kernels.BatchNormInputGradient(input.Size, View(dInput), View(dOutput), View(input), View(gamma), View(mean), View(invStd), sums,
                batch, channels, plane, batchStatistics ? 1 : 0);
    }

    private static (int Batch, int Channels, int Plane) BatchNormLayout(Tensor input)
    {
        if (input.Shape.Rank < 2) throw new ArgumentException($"batch norm: input {input.Shape} needs at least [N, C]");
        return (input.Shape[0], input.Shape[1], input.Shape.Product(2, input.Shape.Rank));
    }
}
