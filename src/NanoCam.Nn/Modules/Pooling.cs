using NanoCam.Autodiff;
using NanoCam.Ops;

namespace NanoCam.Nn.Modules;

/// <summary>Max pooling over kernel×kernel windows.</summary>
public sealed class MaxPool2d(int kernel, int stride = -1, int padding = 0, bool ceilMode = false) : Module
{
    public int Kernel { get; } = kernel;
    public int Stride { get; } = stride < 0 ? kernel : stride;
    public int Padding { get; } = padding;
    public override Tensor Forward(Tape tape, Tensor input) => tape.MaxPool2d(input, Kernel, Stride, Padding, ceilMode);
    public override string ToString() => $"MaxPool2d({Kernel}×{Kernel}, stride {Stride})";
}

/// <summary>Average pooling over kernel×kernel windows.</summary>
public sealed class AvgPool2d(int kernel, int stride = -1, int padding = 0, bool ceilMode = false, bool countIncludePad = true) : Module
{
    public int Kernel { get; } = kernel;
    public int Stride { get; } = stride < 0 ? kernel : stride;
    public override Tensor Forward(Tape tape, Tensor input) => tape.AvgPool2d(input, Kernel, Stride, padding, ceilMode, countIncludePad);
}

/// <summary>Global average pooling [N,C,H,W] → [N,C]: F^k = (1/Z) Σ_{x,y} A^k(x,y) (CAM paper, Sec. 2).</summary>
public sealed class GlobalAvgPool2d : Module
{
    public override Tensor Forward(Tape tape, Tensor input) => tape.GlobalAvgPool(input, keepSpatial: false);
}

/// <summary>[N, d1, d2, …] → [N, d1·d2·…].</summary>
public sealed class Flatten : Module
{
    public override Tensor Forward(Tape tape, Tensor input) => tape.Flatten(input, 1);
}

/// <summary>Inverted dropout, active only while the tape is in training mode.</summary>
public sealed class Dropout(float probability = 0.5f) : Module
{
    public float Probability { get; } = probability;
    public override Tensor Forward(Tape tape, Tensor input) => tape.Dropout(input, Probability, tape.Training);
}
