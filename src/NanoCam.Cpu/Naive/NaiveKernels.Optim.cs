namespace NanoCam.Cpu.Naive;

public sealed partial class NaiveKernels
{
    public void SgdStep(Tensor parameter, Tensor gradient, Tensor velocity, float learningRate, float momentum, float weightDecay)
    {
        var w = parameter.Span;
        var g = gradient.Span;
        var v = velocity.Span;
        for (int i = 0; i < w.Length; i++)
        {
            float gi = g[i] + weightDecay * w[i];
            v[i] = momentum * v[i] + gi;
            w[i] -= learningRate * v[i];
        }
    }

    public void AdamStep(Tensor parameter, Tensor gradient, Tensor m, Tensor v, float learningRate, float beta1, float beta2, float epsilon, float weightDecay, int step)
    {
        var w = parameter.Span;
        var g = gradient.Span;
        var mv = m.Span;
        var vv = v.Span;
        float correction1 = 1 - MathF.Pow(beta1, step), correction2 = 1 - MathF.Pow(beta2, step);
        for (int i = 0; i < w.Length; i++)
        {
            float gi = g[i] + weightDecay * w[i];
            mv[i] = beta1 * mv[i] + (1 - beta1) * gi;
            vv[i] = beta2 * vv[i] + (1 - beta2) * gi * gi;
            w[i] -= learningRate * (mv[i] / correction1) / (MathF.Sqrt(vv[i] / correction2) + epsilon);
        }
    }
}
