namespace NanoCam.Cpu.Naive;

public sealed partial class NaiveKernels
{
    // Element (o, c, i) of an [outer, classes, inner] view sits at (o·classes + c)·inner + i.

    /// <summary>y_c = e^{x_c − max} / Σ_j e^{x_j − max} (max subtracted for stability).</summary>
    public void SoftmaxForward(Tensor output, Tensor input, int outer, int classes, int inner) =>
        SoftmaxOrLogSoftmax(output, input, outer, classes, inner, log: false);

    /// <summary>dx_c += y_c · (dy_c − Σ_j dy_j y_j).</summary>
    public void SoftmaxBackward(Tensor dInput, Tensor dOutput, Tensor output, int outer, int classes, int inner) =>
        SoftmaxOrLogSoftmaxBackward(dInput, dOutput, output, outer, classes, inner, log: false);

    /// <summary>y_c = x_c − max − log Σ_j e^{x_j − max}.</summary>
    public void LogSoftmaxForward(Tensor output, Tensor input, int outer, int classes, int inner) =>
        SoftmaxOrLogSoftmax(output, input, outer, classes, inner, log: true);

    /// <summary>Both forwards over one normalizer Σ_j e^{x_j − max}: e^{x_c − max} / Σ, or (x_c − max) − log Σ.</summary>
    private static void SoftmaxOrLogSoftmax(Tensor output, Tensor input, int outer, int classes, int inner, bool log)
    {
        var y = output.Span;
        var x = input.Span;
        for (int o = 0; o < outer; o++)
        for (int i = 0; i < inner; i++)
        {
            int start = o * classes * inner + i;
            float max = ClassMax(x, start, classes, inner);
            float sum = 0;
            for (int c = 0; c < classes; c++) sum += MathF.Exp(x[start + c * inner] - max);
            // (x − max) − log Σ: subtracting max first keeps precision when |x| is large.
            float logSum = MathF.Log(sum);
            for (int c = 0; c < classes; c++)
                y[start + c * inner] = log ? x[start + c * inner] - max - logSum : MathF.Exp(x[start + c * inner] - max) / sum;
        }
    }

    /// <summary>dx_c += dy_c − e^{y_c} · Σ_j dy_j.</summary>
    public void LogSoftmaxBackward(Tensor dInput, Tensor dOutput, Tensor output, int outer, int classes, int inner) =>
        SoftmaxOrLogSoftmaxBackward(dInput, dOutput, output, outer, classes, inner, log: true);

    /// <summary>Both backwards over one reduction per position: Σ_j dy_j y_j (softmax) or Σ_j dy_j (log-softmax).</summary>
    private static void SoftmaxOrLogSoftmaxBackward(Tensor dInput, Tensor dOutput, Tensor output, int outer, int classes, int inner, bool log)
    {
        var dx = dInput.Span;
        var dy = dOutput.Span;
        var y = output.Span;
        for (int o = 0; o < outer; o++)
        for (int i = 0; i < inner; i++)
        {
            int start = o * classes * inner + i;
            float reduced = 0;
            for (int c = 0; c < classes; c++) reduced += log ? dy[start + c * inner] : dy[start + c * inner] * y[start + c * inner];
            for (int c = 0; c < classes; c++)
                dx[start + c * inner] += log ? dy[start + c * inner] - MathF.Exp(y[start + c * inner]) * reduced
                    : y[start + c * inner] * (dy[start + c * inner] - reduced);
        }
    }

    public void CrossEntropyForward(Tensor loss, Tensor probabilities, Tensor logits, Tensor labels, int rows, int classes)
    {
        SoftmaxForward(probabilities, logits, rows, classes, 1);
        var l = labels.Span;
        double total = 0;
        for (int r = 0; r < rows; r++)
        {
            int label = LabelAt(l, r, classes);
            // −log p_label, computed from the logits (log-sum-exp) so a tiny probability does not become −∞.
            var x = logits.Span.Slice(r * classes, classes);
            float max = float.NegativeInfinity;
            foreach (var v in x) max = MathF.Max(max, v);
            double sum = 0;
            foreach (var v in x) sum += Math.Exp(v - max);
            total += max + Math.Log(sum) - x[label];
        }
        loss.Span[0] = (float)(total / rows);
    }

    public void CrossEntropyBackward(Tensor dLogits, Tensor dLoss, Tensor probabilities, Tensor labels, int rows, int classes)
    {
        var dx = dLogits.Span;
        var p = probabilities.Span;
        var l = labels.Span;
        float scale = dLoss.Span[0] / rows;
        for (int r = 0; r < rows; r++)
        {
            int label = LabelAt(l, r, classes);
            for (int c = 0; c < classes; c++)
                dx[r * classes + c] += scale * (p[r * classes + c] - (c == label ? 1 : 0));
        }
    }

    /// <summary>max_c x[start + c·inner], subtracted before exponentiating so e^x cannot overflow.</summary>
    private static float ClassMax(ReadOnlySpan<float> x, int start, int classes, int inner)
    {
        float max = float.NegativeInfinity;
        for (int c = 0; c < classes; c++) max = MathF.Max(max, x[start + c * inner]);
        return max;
    }

    internal static int LabelAt(ReadOnlySpan<float> labels, int row, int classes)
    {
        float value = labels[row];
        int label = (int)value;
        if (label != value || (uint)label >= (uint)classes)
            throw new ArgumentException($"cross-entropy: label {value} of row {row} is not a class index in [0, {classes})");
        return label;
    }
}
