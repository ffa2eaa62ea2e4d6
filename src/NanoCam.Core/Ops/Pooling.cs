using NanoCam.Autodiff;

namespace NanoCam.Ops;

public static partial class TapeOps
{
    /// <summary>y = max over each kernel×kernel window.</summary>
    public static Tensor MaxPool2d(this Tape tape, Tensor input, int kernel, int stride, int padding = 0, bool ceilMode = false) =>
        tape.MaxPool2d(input, Pool2dGeometry.For(input.Shape, kernel, stride, padding, ceilMode));

    /// <summary>
    /// Max pooling with a geometry. The argmax (<see cref="MaxPool2dNode.Argmax"/>) is kept when the tape records
    /// gradients or <paramref name="keepIndices"/> asks for it (ONNX MaxPool's Indices output); a no-grad pass skips it.
    /// </summary>
    public static Tensor MaxPool2d(this Tape tape, Tensor input, Pool2dGeometry geometry, bool keepIndices = false) =>
        tape.Next<MaxPool2dNode>().Forward(tape, input, geometry, keepIndices);

    /// <summary>y = mean over each window; the divisor counts padding cells when <paramref name="countIncludePad"/>.</summary>
    public static Tensor AvgPool2d(this Tape tape, Tensor input, int kernel, int stride, int padding = 0, bool ceilMode = false, bool countIncludePad = true) =>
        tape.AvgPool2d(input, Pool2dGeometry.For(input.Shape, kernel, stride, padding, ceilMode), countIncludePad);

    public static Tensor AvgPool2d(this Tape tape, Tensor input, Pool2dGeometry geometry, bool countIncludePad) =>
        tape.Next<AvgPool2dNode>().Forward(tape, input, geometry, countIncludePad);

    /// <summary>
    /// Global average pooling, F^k = (1/Z) Σ_{x,y} A^k(x,y) (CAM paper, Sec. 2): [N,C,H,W] → [N,C,1,1], or [N,C] when !keepSpatial.
    /// </summary>
    public static Tensor GlobalAvgPool(this Tape tape, Tensor input, bool keepSpatial = true)
    {
        if (input.Shape.Rank != 4) throw new ArgumentException($"global average pool: input must be [N, C, H, W], got {input.Shape}");
        return tape.Next<GlobalAvgPoolNode>().Forward(tape, input, keepSpatial);
    }

    /// <summary>Global max pooling: [N,C,H,W] → [N,C,1,1].</summary>
    public static Tensor GlobalMaxPool(this Tape tape, Tensor input)
    {
        if (input.Shape.Rank != 4) throw new ArgumentException($"global max pool: input must be [N, C, H, W], got {input.Shape}");
        var s = input.Shape;
        return tape.MaxPool2d(input, new Pool2dGeometry(s[0], s[1], s[2], s[3], s[2], s[3], 1, 1));
    }
}

/// <summary>Max pooling; backward routes each output gradient to the input cell that won the max.</summary>
public sealed class MaxPool2dNode : Node
{
    private Tensor? _argmax;

    public override string Kind => "MaxPool2d";
    public Pool2dGeometry Geometry { get; private set; }
    public Tensor Input => Inputs[0];
    /// <summary>Flat index (y·W + x) in the input plane of each output's maximum; null after a no-grad pass that did not ask for it.</summary>
    public Tensor? Argmax => _hasArgmax ? _argmax : null;

    private bool _hasArgmax;

    internal Tensor Forward(Tape tape, Tensor input, Pool2dGeometry g, bool keepIndices)
    {
        if (!g.IsInputShape(input.Shape)) throw new ArgumentException($"max pool: input has shape {input.Shape} but the geometry expects {g.InputShape}");
        Geometry = g;
        SetInputs(input);
        var output = EnsureOutput(tape, [g.Batch, g.Channels, g.OutputHeight, g.OutputWidth]);
        // Only backward (and ONNX's Indices output) reads the argmax; a no-grad pass computes the values alone.
        _hasArgmax = tape.GradEnabled || keepIndices;
        if (_hasArgmax && (_argmax is null || _argmax.Shape != output.Shape || !ReferenceEquals(_argmaxKernels, tape.Kernels)))
        {
            _argmax = tape.Kernels.Allocate(output.Shape);
            _argmaxKernels = tape.Kernels;
        }
        tape.Kernels.MaxPool2dForward(output, _hasArgmax ? _argmax : null, input, g);
        return output;
    }

    private IKernels? _argmaxKernels;

    public override void Backward(IKernels kernels)
    {
        if (GradOf(Input, out bool accumulate) is { } dInput) kernels.MaxPool2dBackward(dInput, Output.Grad!, _argmax!, Geometry, accumulate);
    }

    /// <summary>Taped: dy scattered to this pass's argmax cells (<see cref="MaxPool2dScatterNode"/>).</summary>
    public override Tensor?[] BackwardTaped(Tape tape, Tensor gradOutput) =>
        TapedGradients(WantsGradient(tape, Input) ? tape.MaxPool2dScatter(gradOutput, _argmax!, Geometry) : null);
}

/// <summary>Average pooling; backward spreads each output gradient evenly over its window (divided by the same count).</summary>
public sealed class AvgPool2dNode : Node
{
    public override string Kind => "AvgPool2d";
    public Pool2dGeometry Geometry { get; private set; }
    public bool CountIncludePad { get; private set; }
    public Tensor Input => Inputs[0];

    internal Tensor Forward(Tape tape, Tensor input, Pool2dGeometry g, bool countIncludePad)
    {
        if (!g.IsInputShape(input.Shape)) throw new ArgumentException($"average pool: input has shape {input.Shape} but the geometry expects {g.InputShape}");
        Geometry = g;
        CountIncludePad = countIncludePad;
        SetInputs(input);
        var output = EnsureOutput(tape, [g.Batch, g.Channels, g.OutputHeight, g.OutputWidth]);
        tape.Kernels.AvgPool2dForward(output, input, g, countIncludePad);
        return output;
    }

    public override void Backward(IKernels kernels)
    {
        if (GradOf(Input) is { } dInput) kernels.AvgPool2dBackward(dInput, Output.Grad!, Geometry, CountIncludePad);
    }

    /// <summary>Taped: dy spread over each window (<see cref="AvgPool2dSpreadNode"/>).</summary>
    public override Tensor?[] BackwardTaped(Tape tape, Tensor gradOutput) =>
        TapedGradients(WantsGradient(tape, Input) ? tape.AvgPool2dSpread(gradOutput, Geometry, CountIncludePad) : null);
}

/// <summary>Global average pooling; backward: ∂F^k/∂A^k(x,y) = 1/Z for every position.</summary>
public sealed class GlobalAvgPoolNode : Node
{
    public override string Kind => "GlobalAvgPool";
    public Tensor Input => Inputs[0];

    internal Tensor Forward(Tape tape, Tensor input, bool keepSpatial)
    {
        SetInputs(input);
        var s = input.Shape;
        var output = keepSpatial ? EnsureOutput(tape, [s[0], s[1], 1, 1]) : EnsureOutput(tape, [s[0], s[1]]);
        tape.Kernels.GlobalAvgPoolForward(output, input);
        return output;
    }

    public override void Backward(IKernels kernels)
    {
        if (GradOf(Input, out bool accumulate) is { } dInput) kernels.GlobalAvgPoolBackward(dInput, Output.Grad!, accumulate);
    }

    private ConstantCache? _share; // made by the taped rule only: first-order passes never allocate it

    /// <summary>Taped: ∂L/∂A^k(x,y) = dF^k / Z, the gradient [N,C,1,1] broadcast against a constant [1,1,H,W] of 1/Z.</summary>
    public override Tensor?[] BackwardTaped(Tape tape, Tensor gradOutput)
    {
        if (!WantsGradient(tape, Input)) return TapedGradients(null);
        var s = Input.Shape;
        var share = (_share ??= new()).Filled(tape.Kernels, [1, 1, s[2], s[3]], 1f / (s[2] * s[3]));
        return TapedGradients(tape.Mul(tape.Reshape(gradOutput, [s[0], s[1], 1, 1]), share));
    }
}
