using NanoCam.Autodiff;
using NanoCam.Elementwise;

namespace NanoCam.Ops;

public static partial class TapeOps
{
    /// <summary>
    /// Layer normalization (Ba et al. 2016) of each row of <paramref name="size"/> contiguous elements:
    /// y = γ ⊙ (x − μ)/√(σ² + ε) + β, μ and σ² the row's mean and population variance; γ (<paramref name="scale"/>) and
    /// β (<paramref name="bias"/>, none: 0) hold <paramref name="size"/> values each. One kernel forward and one backward
    /// where the backend has them (<see cref="ILayerNormKernels"/>); elsewhere composed of tape ops, with the same numbers
    /// up to rounding.
    /// </summary>
    public static Tensor LayerNorm(this Tape tape, Tensor input, Tensor scale, Tensor? bias, int size, float epsilon)
    {
        if (size <= 0 || input.Size % size != 0 || scale.Size != size || bias is not null && bias.Size != size)
            throw new ArgumentException($"layer norm: rows of {size} do not fit the input {input.Shape}, scale {scale.Shape} and bias {bias?.Shape}");
        if (tape.Kernels is ILayerNormKernels) return tape.Next<LayerNormNode>().Forward(tape, input, scale, bias, size, epsilon);
        ReadOnlySpan<int> rows = [input.Size / size, size], row = [size];
        var (normalized, _) = LayerNormComposed(tape, tape.Reshape(input, rows), epsilon);
        var y = tape.Mul(normalized, tape.Reshape(scale, row));
        if (bias is not null) y = tape.Add(y, tape.Reshape(bias, row));
        return tape.Reshape(y, input.Shape.Dims);
    }

    /// <summary>
    /// x̂ = (x − μ)·s and s = (σ² + ε)^−½ along axis 1 of [rows, size], as tape ops that all have taped backward rules (so
    /// this differentiates twice): σ² the mean of the centred squares (no cancellation).
    /// </summary>
    private static (Tensor Normalized, Tensor InvStdDev) LayerNormComposed(Tape tape, Tensor rows, float epsilon)
    {
        var centered = tape.Sub(rows, tape.ReduceMean(rows, [1], keepDims: true));
        var variance = tape.ReduceMean(tape.Mul(centered, centered), [1], keepDims: true);
        var invStdDev = tape.Unary(tape.Unary(variance, new Shift(epsilon)), new PowScalar(-0.5f));
        return (tape.Mul(centered, invStdDev), invStdDev);
    }

    /// <summary>
    /// The taped backward of <see cref="LayerNormNode"/>: x̂ and s recomputed as tape ops, then with g = ∂L/∂y on [rows, size],
    /// ∂L/∂x = s·(γg − mean(γg) − x̂·mean(γg·x̂)), ∂L/∂γ = Σ_rows g·x̂, ∂L/∂β = Σ_rows g.
    /// </summary>
    internal static void LayerNormBackwardTaped(Tape tape, Tensor gradOutput, LayerNormNode node, Tensor?[] grads, bool input, bool scale, bool bias)
    {
        ReadOnlySpan<int> rows = [node.Input.Size / node.Size, node.Size], row = [node.Size];
        var g = tape.Reshape(gradOutput, rows);
        var (normalized, invStdDev) = LayerNormComposed(tape, tape.Reshape(node.Input, rows), node.Epsilon);
        if (input)
        {
            var scaled = tape.Mul(g, tape.Reshape(node.Scale, row));
            var inner = tape.Sub(tape.Sub(scaled, tape.ReduceMean(scaled, [1], keepDims: true)),
                tape.Mul(normalized, tape.ReduceMean(tape.Mul(scaled, normalized), [1], keepDims: true)));
            grads[0] = tape.Reshape(tape.Mul(invStdDev, inner), node.Input.Shape.Dims);
        }
        if (scale) grads[1] = tape.Reshape(tape.Reduce(ReduceKind.Sum, tape.Mul(g, normalized), [0], keepDims: false), node.Scale.Shape.Dims);
        if (bias) grads[2] = tape.Reshape(tape.Reduce(ReduceKind.Sum, g, [0], keepDims: false), node.Bias!.Shape.Dims);
    }
}

/// <summary>Layer normalization of rows of <see cref="Size"/> elements in one kernel forward and one backward (<see cref="ILayerNormKernels"/>).</summary>
public sealed class LayerNormNode : Node
{
    public override string Kind => "LayerNormalization";
    public Tensor Input => Inputs[0];
    public Tensor Scale => Inputs[1];
    public Tensor? Bias => Inputs.Length > 2 ? Inputs[2] : null;

    /// <summary>The number of contiguous elements normalized together (the product of the normalized axes).</summary>
    public int Size { get; private set; }

    /// <summary>ε of 1/√(σ² + ε).</summary>
    public float Epsilon { get; private set; }

    internal Tensor Forward(Tape tape, Tensor input, Tensor scale, Tensor? bias, int size, float epsilon)
    {
        (Size, Epsilon) = (size, epsilon);
        SetInputs(input, scale, bias);
        var output = EnsureOutput(tape, input.Shape.Dims);
        ((ILayerNormKernels)tape.Kernels).LayerNormForward(output, input, scale, bias, size, epsilon);
        return output;
    }

    public override void Backward(IKernels kernels)
    {
        var (dInput, dScale, dBias) = (GradOf(Input), GradOf(Scale), Bias is { } bias ? GradOf(bias) : null);
        if (dInput is null && dScale is null && dBias is null) return;
        ((ILayerNormKernels)kernels).LayerNormBackward(dInput, dScale, dBias, Output.Grad!, Input, Scale, Size, Epsilon);
    }

    public override Tensor?[] BackwardTaped(Tape tape, Tensor gradOutput)
    {
        var grads = TapedGradients();
        TapeOps.LayerNormBackwardTaped(tape, gradOutput, this, grads, WantsGradient(tape, Input), WantsGradient(tape, Scale),
            Bias is { } bias && WantsGradient(tape, bias));
        return grads;
    }
}
