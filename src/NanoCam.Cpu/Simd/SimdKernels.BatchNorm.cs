using System.Numerics.Tensors;

namespace NanoCam.Cpu.Simd;

public sealed partial class SimdKernels
{
    // Batch normalization per channel c over its N planes of H·W values (see IKernels for the equations). Each plane is
    // one contiguous span, so every pass is a TensorPrimitives call; plane partial sums are combined in double.

    public void BatchNormForwardTraining(Tensor output, Tensor savedMean, Tensor savedInvStd, Tensor runningMean, Tensor runningVar,
        Tensor input, Tensor gamma, Tensor beta, float momentum, float epsilon)
    {
        var (batch, channels, plane) = Check.BatchNormLayout(input);
        var x = input.Span;
        int count = batch * plane;
        for (int c = 0; c < channels; c++)
        {
            double sum = 0;
            for (int n = 0; n < batch; n++) sum += TensorPrimitives.Sum(x.Slice((n * channels + c) * plane, plane));
            float mean = (float)(sum / count);
            // Σ(x − μ)² computed around the mean (two passes) so large means do not cancel.
            double squares = 0;
            for (int n = 0; n < batch; n++)
            {
                var xs = x.Slice((n * channels + c) * plane, plane);
                squares += SumOfSquaredDeviations(xs, mean);
            }
            Naive.BatchNormStatistics.Record(c, mean, squares, count, savedMean, savedInvStd, runningMean, runningVar, momentum, epsilon);
        }
        Normalize(output, input, gamma, beta, savedMean, savedInvStd);
    }

    private static double SumOfSquaredDeviations(ReadOnlySpan<float> x, float mean)
    {
        // Σ(x − μ)² = Σx² − 2μΣx + nμ², evaluated per plane in float on values already near the mean scale, then in double.
        double sx = TensorPrimitives.Sum(x), sxx = TensorPrimitives.SumOfSquares(x);
        return Math.Max(0, sxx - 2 * mean * sx + (double)x.Length * mean * mean);
    }

    public void BatchNormForwardInference(Tensor output, Tensor savedInvStd, Tensor input, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, float epsilon)
    {
        var (_, channels, _) = Check.BatchNormLayout(input);
        Naive.BatchNormStatistics.InverseStd(savedInvStd, runningVar, channels, epsilon);
        Normalize(output, input, gamma, beta, runningMean, savedInvStd);
    }

    /// <summary>y = x·(γ·invStd) + (β − μ·γ·invStd), two vector passes per plane.</summary>
    private static void Normalize(Tensor output, Tensor input, Tensor gamma, Tensor beta, Tensor mean, Tensor invStd)
    {
        var (batch, channels, plane) = Check.BatchNormLayout(input);
        var x = input.Span;
        var y = output.Span;
        for (int n = 0; n < batch; n++)
        for (int c = 0; c < channels; c++)
        {
            float scale = gamma.Span[c] * invStd.Span[c];
            float shift = beta.Span[c] - mean.Span[c] * scale;
            int at = (n * channels + c) * plane;
            var ys = y.Slice(at, plane);
            TensorPrimitives.Multiply(x.Slice(at, plane), scale, ys);
            TensorPrimitives.Add(ys, shift, ys);
        }
    }

    public void BatchNormBackward(Tensor? dInput, Tensor? dGamma, Tensor? dBeta, Tensor dOutput, Tensor input, Tensor gamma, Tensor mean, Tensor invStd, bool batchStatistics)
    {
        var (batch, channels, plane) = Check.BatchNormLayout(input);
        var x = input.Span;
        var dy = dOutput.Span;
        int count = batch * plane;
        for (int c = 0; c < channels; c++)
        {
            float mu = mean.Span[c], s = invStd.Span[c], g = gamma.Span[c];
            double sumDy = 0, sumDyX = 0;
            for (int n = 0; n < batch; n++)
            {
                int at = (n * channels + c) * plane;
                sumDy += TensorPrimitives.Sum(dy.Slice(at, plane));
                sumDyX += TensorPrimitives.Dot(dy.Slice(at, plane), x.Slice(at, plane));
            }
            // Σ dy·x̂ = s·(Σ dy·x − μ Σ dy)
            double sumDyXhat = s * (sumDyX - mu * sumDy);
            if (dGamma is not null) dGamma.Span[c] += (float)sumDyXhat;
            if (dBeta is not null) dBeta.Span[c] += (float)sumDy;
            if (dInput is null) continue;
            var dx = dInput.Span;
            // Training: dx = γs·(dy − mean(dy) − x̂·mean(dy·x̂)) = a·dy + b·x + k with
            // a = γs, b = −γs²·mean(dy·x̂), k = γs·(μ·s·mean(dy·x̂) − mean(dy)). Inference: dx = γs·dy.
            float a = g * s;
            float meanDyXhat = (float)(sumDyXhat / count), meanDy = (float)(sumDy / count);
            float b = batchStatistics ? -a * s * meanDyXhat : 0;
            float k = batchStatistics ? a * (mu * s * meanDyXhat - meanDy) : 0;
            for (int n = 0; n < batch; n++)
            {
                int at = (n * channels + c) * plane;
                var dxs = dx.Slice(at, plane);
                TensorPrimitives.MultiplyAdd(dy.Slice(at, plane), a, dxs, dxs);
                if (!batchStatistics) continue;
                TensorPrimitives.MultiplyAdd(x.Slice(at, plane), b, dxs, dxs);
                TensorPrimitives.Add(dxs, k, dxs);
            }
        }
    }

}
