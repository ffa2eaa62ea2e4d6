using NanoCam.Autodiff;

namespace NanoCam.Ops;

public static partial class TapeOps
{
    /// <summary>
    /// ∂L/∂x of a max pooling as a taped op: each output gradient routed to the input cell that won its window
    /// (<paramref name="argmax"/>, the forward pass's, a constant). Its backward is <see cref="MaxPool2dGather"/>.
    /// </summary>
    public static Tensor MaxPool2dScatter(this Tape tape, Tensor gradOutput, Tensor argmax, Pool2dGeometry geometry) =>
        tape.Next<MaxPool2dScatterNode>().Forward(tape, gradOutput, argmax, geometry);

    /// <summary>z[n,c,o] = x[n,c,argmax[n,c,o]]: the value of each window's winner, the adjoint of <see cref="MaxPool2dScatter"/>.</summary>
    public static Tensor MaxPool2dGather(this Tape tape, Tensor input, Tensor argmax, Pool2dGeometry geometry) =>
        tape.Next<MaxPool2dGatherNode>().Forward(tape, input, argmax, geometry);

    /// <summary>
    /// ∂L/∂x of an average pooling as a taped op: each output gradient spread over its window. Average pooling is linear,
    /// so this op's backward is the average pooling itself.
    /// </summary>
    public static Tensor AvgPool2dSpread(this Tape tape, Tensor gradOutput, Pool2dGeometry geometry, bool countIncludePad) =>
        tape.Next<AvgPool2dSpreadNode>().Forward(tape, gradOutput, geometry, countIncludePad);
}

/// <summary>z = scatter of g to the argmax cells (zero elsewhere); backward: ∂L/∂g = dz gathered at the argmax.</summary>
public sealed class MaxPool2dScatterNode : Node
{
    private readonly MaxPoolIndexGather _gather = new();

    public override string Kind => "MaxPool2dScatter";
    public Pool2dGeometry Geometry { get; private set; }
    public Tensor Argmax { get; private set; } = null!;
    public Tensor GradOutput => Inputs[0];

    internal Tensor Forward(Tape tape, Tensor gradOutput, Tensor argmax, Pool2dGeometry g)
    {
        if (gradOutput.Shape != argmax.Shape) throw new ArgumentException($"max pool scatter: dy {gradOutput.Shape} and argmax {argmax.Shape} differ");
        Geometry = g;
        Argmax = argmax;
        SetInputs(gradOutput);
        var output = EnsureOutput(tape, [g.Batch, g.Channels, g.InputHeight, g.InputWidth]);
        tape.Kernels.MaxPool2dBackward(output, gradOutput, argmax, g, accumulate: false);
        return output;
    }

    public override void Backward(IKernels kernels)
    {
        if (GradOf(GradOutput) is { } dg) _gather.Run(kernels, dg, Output.Grad!, Argmax, Geometry, accumulate: true);
    }

    public override Tensor?[] BackwardTaped(Tape tape, Tensor gradOutput) =>
        TapedGradients(WantsGradient(tape, GradOutput) ? tape.MaxPool2dGather(gradOutput, Argmax, Geometry) : null);
}

/// <summary>z = x gathered at the argmax cells; backward: ∂L/∂x = dz scattered back to them.</summary>
public sealed class MaxPool2dGatherNode : Node
{
    private readonly MaxPoolIndexGather _gather = new();

    public override string Kind => "MaxPool2dGather";
    public Pool2dGeometry Geometry { get; private set; }
    public Tensor Argmax { get; private set; } = null!;
    public Tensor Input => Inputs[0];

    internal Tensor Forward(Tape tape, Tensor input, Tensor argmax, Pool2dGeometry g)
    {
        if (!g.IsInputShape(input.Shape)) throw new ArgumentException($"max pool gather: input has shape {input.Shape} but the geometry expects {g.InputShape}");
        Geometry = g;
        Argmax = argmax;
        SetInputs(input);
        var output = EnsureOutput(tape, argmax.Shape.Dims);
        _gather.Run(tape.Kernels, output, input, argmax, g, accumulate: false);
        return output;
    }

    public override void Backward(IKernels kernels)
    {
        if (GradOf(Input) is { } dx) kernels.MaxPool2dBackward(dx, Output.Grad!, Argmax, Geometry, accumulate: true);
    }

    public override Tensor?[] BackwardTaped(Tape tape, Tensor gradOutput) =>
        TapedGradients(WantsGradient(tape, Input) ? tape.MaxPool2dScatter(gradOutput, Argmax, Geometry) : null);
}

/// <summary>
/// The gather z[n,c,o] = x[n,c,argmax[n,c,o]] through host memory (the kernel set has no indexed gather; this serves only
/// the second-order path): the operands are copied to reused host arrays and the result staged back.
/// </summary>
internal sealed class MaxPoolIndexGather
{
    private float[] _input = [], _argmax = [];
    private Tensor? _host, _staged;

    public void Run(IKernels kernels, Tensor output, Tensor input, Tensor argmax, Pool2dGeometry g, bool accumulate)
    {
        if (_input.Length != input.Size) _input = new float[input.Size];
        if (_argmax.Length != argmax.Size) _argmax = new float[argmax.Size];
        if (_host is null || _host.Shape != argmax.Shape) _host = Tensor.Zeros(argmax.Shape);
        input.Buffer.CopyTo(_input);
        argmax.Buffer.CopyTo(_argmax);
        var z = _host.Span;
        int outPlane = g.OutputHeight * g.OutputWidth, plane = g.InputHeight * g.InputWidth;
        for (int nc = 0; nc < g.Batch * g.Channels; nc++)
        for (int o = 0; o < outPlane; o++)
        {
            int index = (int)_argmax[nc * outPlane + o];
            z[nc * outPlane + o] = index >= 0 ? _input[nc * plane + index] : 0f;
        }
        var staged = kernels.Stage(_host, ref _staged);
        if (accumulate) kernels.AddScaled(output, staged, 1f);
        else kernels.Copy(output, staged);
    }
}

/// <summary>z = avgPoolᵀ(g), the input gradient of an average pooling; backward: ∂L/∂g = avgPool(dz).</summary>
public sealed class AvgPool2dSpreadNode : Node
{
    private ConstantCache? _scratch; // allocated on first use

    public override string Kind => "AvgPool2dSpread";
    public Pool2dGeometry Geometry { get; private set; }
    public bool CountIncludePad { get; private set; }
    public Tensor GradOutput => Inputs[0];

    internal Tensor Forward(Tape tape, Tensor gradOutput, Pool2dGeometry g, bool countIncludePad)
    {
        Geometry = g;
        CountIncludePad = countIncludePad;
        SetInputs(gradOutput);
        var output = EnsureOutput(tape, [g.Batch, g.Channels, g.InputHeight, g.InputWidth]);
        tape.Kernels.Fill(output, 0f);
        tape.Kernels.AvgPool2dBackward(output, gradOutput, g, countIncludePad);
        return output;
    }

    public override void Backward(IKernels kernels)
    {
        if (GradOf(GradOutput) is not { } dg) return;
        var pooled = (_scratch ??= new()).Of(kernels, dg.Shape.Dims);
        kernels.AvgPool2dForward(pooled, Output.Grad!, Geometry, CountIncludePad);
        kernels.AddScaled(dg, pooled, 1f);
    }

    public override Tensor?[] BackwardTaped(Tape tape, Tensor gradOutput) =>
        TapedGradients(WantsGradient(tape, GradOutput) ? tape.AvgPool2d(gradOutput, Geometry, CountIncludePad) : null);
}
