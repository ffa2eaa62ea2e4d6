using System.Runtime.Intrinsics;

namespace NanoCam.Cpu.Simd;

public sealed partial class SimdKernels
{
    // Pooling lives in SimdKernels.Pooling.cs. The optimizer updates below are vectorized because they touch every
    // parameter every step.

    /// <summary>PyTorch's SGD (see <see cref="IKernels.SgdStep"/>), eight lanes at a time, scalar tail.</summary>
    public void SgdStep(Tensor parameter, Tensor gradient, Tensor velocity, float learningRate, float momentum, float weightDecay)
    {
        var w = parameter.Span;
        var g = gradient.Span;
        var v = velocity.Span;
        var lr = Vector256.Create(learningRate);
        var mu = Vector256.Create(momentum);
        var wd = Vector256.Create(weightDecay);
        int i = 0;
        for (; i <= w.Length - 8; i += 8)
        {
            var wi = Vector256.Create(w.Slice(i, 8));
            var gi = Vector256.FusedMultiplyAdd(wd, wi, Vector256.Create(g.Slice(i, 8)));
            var vi = Vector256.FusedMultiplyAdd(mu, Vector256.Create(v.Slice(i, 8)), gi);
            vi.CopyTo(v.Slice(i, 8));
            (wi - lr * vi).CopyTo(w.Slice(i, 8));
        }
        for (; i < w.Length; i++)
        {
            float gi = g[i] + weightDecay * w[i];
            v[i] = momentum * v[i] + gi;
            w[i] -= learningRate * v[i];
        }
    }

    public void AdamStep(Tensor parameter, Tensor gradient, Tensor m, Tensor v, float learningRate, float beta1, float beta2, float epsilon, float weightDecay, int step) =>
        Reference.AdamStep(parameter, gradient, m, v, learningRate, beta1, beta2, epsilon, weightDecay, step);
}
