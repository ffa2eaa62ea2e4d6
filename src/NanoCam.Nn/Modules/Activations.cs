using NanoCam.Autodiff;
using NanoCam.Ops;

namespace NanoCam.Nn.Modules;

/// <summary>y = max(x, 0).</summary>
public sealed class ReLU : Module
{
    public override Tensor Forward(Tape tape, Tensor input) => tape.Relu(input);
}

/// <summary>y = x if x &gt; 0 else alpha·x.</summary>
public sealed class LeakyReLU(float alpha = 0.01f) : Module
{
    public float Alpha { get; } = alpha;
    public override Tensor Forward(Tape tape, Tensor input) => tape.LeakyRelu(input, Alpha);
}
