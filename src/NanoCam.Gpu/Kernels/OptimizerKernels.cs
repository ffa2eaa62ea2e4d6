using ILGPU;
using ILGPU.Algorithms;

namespace NanoCam.Gpu.Kernels;

/// <summary>In-place optimizer updates, one thread per parameter.</summary>
internal static class OptimizerKernels
{
    /// <summary>SGD with momentum and L2 decay (PyTorch's rule): g = grad + wd·w; v = μ·v + g; w −= lr·v.</summary>
    public static void Sgd(Index1D i, ArrayView<float> parameter, ArrayView<float> gradient, ArrayView<float> velocity,
        float learningRate, float momentum, float weightDecay)
    {
        float g = gradient[i] + weightDecay * parameter[i];
        float v = momentum * velocity[i] + g;
        velocity[i] = v;
        parameter[i] -= learningRate * v;
    }

    /// <summary>Adam (Kingma &amp; Ba 2015, Alg. 1): m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²; w −= lr·(m/c1)/(sqrt(v/c2) + ε).</summary>
    public static void Adam(Index1D i, ArrayView<float> parameter, ArrayView<float> gradient, ArrayView<float> m, ArrayView<float> v,
        AdamArgs a)
    {
        float g = gradient[i] + a.WeightDecay * parameter[i];
        float mi = a.Beta1 * m[i] + (1 - a.Beta1) * g;
        float vi = a.Beta2 * v[i] + (1 - a.Beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        parameter[i] -= a.LearningRate * (mi / a.Correction1) / (XMath.Sqrt(vi / a.Correction2) + a.Epsilon);
    }
}

/// <summary>One Adam step's scalars; the bias corrections c1 = 1 − β1^t, c2 = 1 − β2^t are computed on the host.</summary>
internal readonly record struct AdamArgs(float LearningRate, float Beta1, float Beta2, float Epsilon, float WeightDecay, float Correction1, float Correction2);
