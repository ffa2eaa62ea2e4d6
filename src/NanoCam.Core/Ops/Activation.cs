using NanoCam.Autodiff;

namespace NanoCam.Ops;

public static partial class TapeOps
{
    /// <summary>y = max(x, 0).</summary>
    public static Tensor Relu(this Tape tape, Tensor input) => tape.Activation(NanoCam.Activation.Relu, input, default);

    /// <summary>y = x if x &gt; 0 else alpha·x.</summary>
    public static Tensor LeakyRelu(this Tape tape, Tensor input, float alpha = 0.01f) => tape.Activation(NanoCam.Activation.LeakyRelu, input, new ActivationParams(Alpha: alpha));

    /// <summary>y = 1 / (1 + e^−x).</summary>
    public static Tensor Sigmoid(this Tape tape, Tensor input) => tape.Activation(NanoCam.Activation.Sigmoid, input, default);

    /// <summary>y = min(max(x, low), high).</summary>
    public static Tensor Clip(this Tape tape, Tensor input, float low, float high) => tape.Activation(NanoCam.Activation.Clip, input, new ActivationParams(Low: low, High: high));

    public static Tensor Activation(this Tape tape, Activation kind, Tensor input, ActivationParams parameters) =>
        tape.Next<ActivationNode>().Forward(tape, kind, input, parameters);
}

/// <summary>
/// An element-wise activation. Its Kind is the activation's name, so a backward-rule override can target
/// "Relu" alone (Guided Backprop, Deconvnet: see <see cref="ReluRule"/>).
/// </summary>
public sealed class ActivationNode : Node
{
    private static readonly string[] KindNames = Enum.GetNames<Activation>();

    public override string Kind => KindNames[(int)Function];
    public Activation Function { get; private set; }
    public ActivationParams Parameters { get; private set; }
    public Tensor Input => Inputs[0];

    internal Tensor Forward(Tape tape, Activation kind, Tensor input, ActivationParams parameters)
    {
        Function = kind;
        Parameters = parameters;
        SetInputs(input);
        var output = EnsureOutput(tape, input.Shape.Dims);
        tape.Kernels.ActivationForward(kind, output, input, parameters);
        return output;
    }

    public override void Backward(IKernels kernels)
    {
        if (Function == Activation.Relu)
        {
            if (GradOf(Input, out bool accumulate) is { } dx) kernels.ReluBackward(ReluBackwardRule.Standard, dx, Output.Grad!, Input, accumulate);
            return;
        }
        if (GradOf(Input) is { } dInput) kernels.ActivationBackward(Function, dInput, Output.Grad!, Input, Output, Parameters);
    }

    /// <summary>
    /// Taped, each derivative read from the pass's output y as taped ops: ReLU g ⊙ [x &gt; 0] (the mask sign(y), a constant
    /// of the pass: ReLU's second derivative is 0 almost everywhere; what reaches the weights does so through g);
    /// leaky ReLU g ⊙ (α + (1 − α)[x &gt; 0]); sigmoid g ⊙ y(1 − y), whose own derivative reaches x through y; identity g.
    /// Clip has none (its mask needs both bounds).
    /// </summary>
    public override Tensor?[] BackwardTaped(Tape tape, Tensor gradOutput)
    {
        if (Function is NanoCam.Activation.Clip)
            throw new NotSupportedException($"second-order gradients: the activation {Kind} has no taped backward rule (ReLU, leaky ReLU, sigmoid and identity have)");
        if (!WantsGradient(tape, Input)) return TapedGradients(null);
        var g = gradOutput;
        var y = Output;
        var dInput = Function switch
        {
            NanoCam.Activation.Relu => tape.Mul(g, tape.Unary(y, new Elementwise.Sign())),
            NanoCam.Activation.LeakyRelu => tape.Mul(g, tape.Unary(tape.Unary(
                tape.Unary(tape.Unary(y, new Elementwise.Sign()), new Elementwise.Relu()),
                new Elementwise.Scale(1f - Parameters.Alpha)), new Elementwise.Shift(Parameters.Alpha))),
            NanoCam.Activation.Sigmoid => tape.Mul(g, tape.Sub(y, tape.Mul(y, y))),
            _ => g,
        };
        return TapedGradients(dInput);
    }

    /// <summary>
    /// A backward rule for every ReLU of a tape: <c>tape.OverrideBackward("Relu", ActivationNode.ReluRule(ReluBackwardRule.Guided))</c>.
    /// It serves both nodes of kind "Relu": this one and the generic <c>UnaryNode&lt;Elementwise.Relu&gt;</c> (one input each).
    /// </summary>
    public static BackwardRule ReluRule(ReluBackwardRule rule) => (node, kernels) =>
    {
        if (node.GradOfInput(0, out bool accumulate) is { } dInput) kernels.ReluBackward(rule, dInput, node.Output.Grad!, node.Inputs[0], accumulate);
    };
}
