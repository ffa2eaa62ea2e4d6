using NanoCam.Nn.Modules;

namespace NanoCam.Nn.Optim;

/// <summary>Adam (Kingma &amp; Ba 2015) with bias correction and L2 weight decay.</summary>
public sealed class Adam : Optimizer
{
    private readonly Tensor[] _m, _v;

    public Adam(IKernels kernels, IEnumerable<Parameter> parameters, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0f)
        : base(kernels, parameters, learningRate)
    {
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
        _m = Parameters.Select(p => kernels.Allocate(p.Value.Shape)).ToArray();
        _v = Parameters.Select(p => kernels.Allocate(p.Value.Shape)).ToArray();
    }

    public float Beta1 { get; }
    public float Beta2 { get; }
    public float Epsilon { get; }
    public float WeightDecay { get; }

    protected override void Update(int index, Tensor parameter, Tensor gradient) =>
        Kernels.AdamStep(parameter, gradient, _m[index], _v[index], LearningRate, Beta1, Beta2, Epsilon, WeightDecay, StepCount);
}
