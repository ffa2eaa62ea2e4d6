using NanoCam.Autodiff;

namespace NanoCam.Ops;

public static partial class TapeOps
{
    /// <summary>
    /// Batch normalization over the channel axis (Ioffe &amp; Szegedy 2015, Alg. 1): y = γ·(x − μ)/sqrt(σ² + ε) + β.
    /// In training, μ and σ² are the batch's and the running statistics are updated; otherwise the running ones are used.
    /// </summary>
    public static Tensor BatchNorm(this Tape tape, Tensor input, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
        bool training, float momentum = 0.1f, float epsilon = 1e-5f)
    {
        if (input.Shape.Rank is not (2 or 4)) throw new ArgumentException($"batch norm: input must be [N, C, H, W] or [N, C], got {input.Shape}");
        int channels = input.Shape[1];
        CheckPerChannel(gamma, "scale", input);
        CheckPerChannel(beta, "bias", input);
        CheckPerChannel(runningMean, "running mean", input);
        CheckPerChannel(runningVar, "running variance", input);
        return tape.Next<BatchNormNode>().Forward(tape, input, gamma, beta, runningMean, runningVar, training, momentum, epsilon);
    }

    private static void CheckPerChannel(Tensor t, string what, Tensor input)
    {
        if (t.Shape.Rank != 1 || t.Shape[0] != input.Shape[1])
            throw new ArgumentException($"batch norm: {what} has shape {t.Shape} but the input {input.Shape} has {input.Shape[1]} channels");
    }
}

/// <summary>Batch normalization; backward in both modes (inference mode treats the statistics as constants).</summary>
public sealed class BatchNormNode : Node
{
    private Tensor? _mean, _invStd;
    private Tensor _runningMean = null!;

    public override string Kind => "BatchNorm";
    public bool Training { get; private set; }

    /// <summary>ε of 1 / sqrt(σ² + ε).</summary>
    public float Epsilon { get; private set; }
    public Tensor Input => Inputs[0];
    public Tensor Gamma => Inputs[1];
    public Tensor Beta => Inputs[2];

    /// <summary>The mean μ this pass normalized with: the batch's in training, else the running mean.</summary>
    public Tensor Mean => Training ? _mean! : _runningMean;

    /// <summary>1 / sqrt(σ² + ε) per channel, as this pass computed it (y = γ·(x − μ)·InvStd + β).</summary>
    public Tensor InvStd => _invStd!;

    internal Tensor Forward(Tape tape, Tensor input, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, bool training, float momentum, float epsilon)
    {
        Training = training;
        Epsilon = epsilon;
        _runningMean = runningMean;
        SetInputs(input, gamma, beta);
        var output = EnsureOutput(tape, input.Shape.Dims);
        if (_invStd is null || _invStd.Shape != gamma.Shape)
        {
            _mean = tape.Kernels.Allocate(gamma.Shape);
            _invStd = tape.Kernels.Allocate(gamma.Shape);
        }
        if (training)
            tape.Kernels.BatchNormForwardTraining(output, _mean!, _invStd, runningMean, runningVar, input, gamma, beta, momentum, epsilon);
        else
            tape.Kernels.BatchNormForwardInference(output, _invStd, input, gamma, beta, runningMean, runningVar, epsilon);
        return output;
    }

    public override void Backward(IKernels kernels) =>
        kernels.BatchNormBackward(GradOf(Input), GradOf(Gamma), GradOf(Beta), Output.Grad!, Input, Gamma,
            Training ? _mean! : _runningMean, _invStd!, batchStatistics: Training);

    /// <summary>
    /// Taped. In training the statistics depend on x, so they are recomputed as taped ops (μ = mean x, σ² = mean (x − μ)²,
    /// x̂ = (x − μ)/sqrt(σ² + ε)) and, with means over the M = N·H·W values of a channel (Ioffe &amp; Szegedy 2015, Sec. 3):
    /// ∂L/∂x = γ/sqrt(σ² + ε) · (g − mean g − x̂ · mean(g·x̂)), ∂L/∂γ = Σ g·x̂, ∂L/∂β = Σ g.
    /// In inference μ and 1/sqrt(σ² + ε) are constants: ∂L/∂x = γ·g/sqrt(σ² + ε).
    /// </summary>
    public override Tensor?[] BackwardTaped(Tape tape, Tensor gradOutput)
    {
        var s = Input.Shape;
        int channels = s[1];
        ReadOnlySpan<int> axes = s.Rank == 4 ? [0, 2, 3] : [0];
        Span<int> perChannelDims = [1, channels, 1, 1];
        ReadOnlySpan<int> perChannel = perChannelDims[..s.Rank];
        var g = gradOutput;
        Tensor normalized, invStd;
        if (Training)
        {
            var centered = tape.Sub(Input, tape.ReduceMean(Input, axes, keepDims: true));
            var variance = tape.ReduceMean(tape.Mul(centered, centered), axes, keepDims: true);
            invStd = tape.Unary(tape.Unary(variance, new Elementwise.Shift(Epsilon)), new Elementwise.PowScalar(-0.5f));
            normalized = tape.Mul(centered, invStd);
        }
        else
        {
            invStd = new Tensor(new Shape(perChannel.ToArray()), _invStd!.Buffer);
            normalized = tape.Mul(tape.Sub(Input, new Tensor(new Shape(perChannel.ToArray()), _runningMean.Buffer)), invStd);
        }
        var grads = TapedGradients();
        if (WantsGradient(tape, Input))
        {
            var scale = tape.Mul(tape.Reshape(Gamma, perChannel), invStd);
            var inner = Training
                ? tape.Sub(tape.Sub(g, tape.ReduceMean(g, axes, keepDims: true)), tape.Mul(normalized, tape.ReduceMean(tape.Mul(g, normalized), axes, keepDims: true)))
                : g;
            grads[0] = tape.Mul(scale, inner);
        }
        if (WantsGradient(tape, Gamma)) grads[1] = tape.Reduce(ReduceKind.Sum, tape.Mul(g, normalized), axes, keepDims: false);
        if (WantsGradient(tape, Beta)) grads[2] = tape.Reduce(ReduceKind.Sum, g, axes, keepDims: false);
        return grads;
    }
}
