using NanoCam.Autodiff;
using NanoCam.Ops;

namespace NanoCam.Nn.Modules;

/// <summary>Batch normalization over channels with learned scale/shift and running statistics (PyTorch names and defaults).</summary>
public sealed class BatchNorm2d : Module
{
    public BatchNorm2d(int channels, float epsilon = 1e-5f, float momentum = 0.1f)
    {
        Channels = channels;
        Epsilon = epsilon;
        Momentum = momentum;
        var ones = Tensor.Zeros(channels);
        ones.Span.Fill(1f);
        Weight = AddParameter("weight", ones);
        Bias = AddParameter("bias", Tensor.Zeros(channels));
        RunningMean = AddParameter("running_mean", Tensor.Zeros(channels), trainable: false);
        var unit = Tensor.Zeros(channels);
        unit.Span.Fill(1f);
        RunningVar = AddParameter("running_var", unit, trainable: false);
    }

    public int Channels { get; }
    public float Epsilon { get; }
    public float Momentum { get; }
    public Parameter Weight { get; }
    public Parameter Bias { get; }
    public Parameter RunningMean { get; }
    public Parameter RunningVar { get; }

    public override Tensor Forward(Tape tape, Tensor input) =>
        tape.BatchNorm(input, Weight.Value, Bias.Value, RunningMean.Value, RunningVar.Value, tape.Training, Momentum, Epsilon);
}
