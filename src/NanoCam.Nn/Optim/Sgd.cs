using NanoCam.Nn.Modules;

namespace NanoCam.Nn.Optim;

/// <summary>SGD with momentum and weight decay, PyTorch's formulation: v = μ·v + (g + λ·w); w −= lr·v.</summary>
public sealed class Sgd : Optimizer
{
    private readonly Tensor[] _velocity;

    public Sgd(IKernels kernels, IEnumerable<Parameter> parameters, float learningRate, float momentum = 0.9f, float weightDecay = 0f)
        : base(kernels, parameters, learningRate)
    {
        Momentum = momentum;
        WeightDecay = weightDecay;
        _velocity = Parameters.Select(p => kernels.Allocate(p.Value.Shape)).ToArray();
    }

    public float Momentum { get; }
    public float WeightDecay { get; }

    protected override void Update(int index, Tensor parameter, Tensor gradient) =>
        Kernels.SgdStep(parameter, gradient, _velocity[index], LearningRate, Momentum, WeightDecay);
}
