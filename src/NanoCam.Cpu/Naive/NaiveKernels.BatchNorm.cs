namespace NanoCam.Cpu.Naive;

public sealed partial class NaiveKernels
{
    // Batch normalization (Ioffe & Szegedy 2015, Alg. 1) per channel c over all (n, spatial) positions:
    //   x̂ = (x − μ_c)·invStd_c,  y = γ_c·x̂ + β_c,  invStd_c = 1/sqrt(σ²_c + ε).

    public void BatchNormForwardTraining(Tensor output, Tensor savedMean, Tensor savedInvStd, Tensor runningMean, Tensor runningVar,
        Tensor input, Tensor gamma, Tensor beta, float momentum, float epsilon)
    {
        var (batch, channels, plane) = Check.BatchNormLayout(input);
        var x = input.Span;
        int count = batch * plane;
        for (int c = 0; c < channels; c++)
        {
            double sum = 0, squares = 0;
            for (int n = 0; n < batch; n++)
            for (int i = 0; i < plane; i++)
            {
                double v = x[(n * channels + c) * plane + i];
                sum += v;
            }
            double mean = sum / count;
            for (int n = 0; n < batch; n++)
            for (int i = 0; i < plane; i++)
            {
                double d = x[(n * channels + c) * plane + i] - mean;
                squares += d * d;
            }
            BatchNormStatistics.Record(c, mean, squares, count, savedMean, savedInvStd, runningMean, runningVar, momentum, epsilon);
        }
        Normalize(output, input, gamma, beta, savedMean, savedInvStd);
    }

    public void BatchNormForwardInference(Tensor output, Tensor savedInvStd, Tensor input, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, float epsilon)
    {
        var (_, channels, _) = Check.BatchNormLayout(input);
        BatchNormStatistics.InverseStd(savedInvStd, runningVar, channels, epsilon);
        Normalize(output, input, gamma, beta, runningMean, savedInvStd);
    }

    /// <summary>y = γ·(x − μ)·invStd + β, element by element as written (the SIMD kernel folds it into one scale and shift per channel).</summary>
    private static void Normalize(Tensor output, Tensor input, Tensor gamma, Tensor beta, Tensor mean, Tensor invStd)
    {
        var (batch, channels, plane) = Check.BatchNormLayout(input);
        var x = input.Span;
        var y = output.Span;
        for (int n = 0; n < batch; n++)
        for (int c = 0; c < channels; c++)
        for (int i = 0; i < plane; i++)
        {
            int at = (n * channels + c) * plane + i;
            y[at] = gamma.Span[c] * (x[at] - mean.Span[c]) * invStd.Span[c] + beta.Span[c];
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
            float mu = mean.Span[c], s = invStd.Span[c];
            double sumDy = 0, sumDyXhat = 0;
            for (int n = 0; n < batch; n++)
            for (int i = 0; i < plane; i++)
            {
                int at = (n * channels + c) * plane + i;
                sumDy += dy[at];
                sumDyXhat += dy[at] * (x[at] - mu) * s;
            }
            if (dGamma is not null) dGamma.Span[c] += (float)sumDyXhat;
            if (dBeta is not null) dBeta.Span[c] += (float)sumDy;
            if (dInput is null) continue;
            var dx = dInput.Span;
            float meanDy = (float)(sumDy / count), meanDyXhat = (float)(sumDyXhat / count);
            for (int n = 0; n < batch; n++)
            for (int i = 0; i < plane; i++)
            {
                int at = (n * channels + c) * plane + i;
                float xhat = (x[at] - mu) * s;
                // dx = γ·invStd·(dy − mean(dy) − x̂·mean(dy·x̂)) in training; γ·invStd·dy with fixed statistics.
                dx[at] += batchStatistics ? gamma.Span[c] * s * (dy[at] - meanDy - xhat * meanDyXhat) : gamma.Span[c] * s * dy[at];
            }
        }
    }

}
