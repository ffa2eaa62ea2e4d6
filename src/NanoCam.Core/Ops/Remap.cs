using NanoCam.Autodiff;

namespace NanoCam.Ops;

public static partial class TapeOps
{
    /// <summary>
    /// output[i] = x[plan.InputOffset(i)] (or plan.Fill), shaped plan.OutputDims: the general gather behind
    /// <see cref="Transpose"/>, <see cref="Slice"/>, <see cref="Pad"/>, <see cref="Expand"/> and <see cref="Tile"/>.
    /// Backward adds each output gradient back at the offset it read.
    /// </summary>
    public static Tensor Remap(this Tape tape, Tensor x, RemapPlan plan)
    {
        if (x.Size < plan.MinimumInputSize)
            throw new ArgumentException($"remap: the plan reads up to element {plan.MinimumInputSize - 1} but the input {x.Shape} has {x.Size}");
        return tape.Next<RemapNode>().Forward(tape, x, plan, "Remap");
    }

    /// <summary>A remap built from axes a helper computed on the stack: the node keeps last pass's plan while they are unchanged.</summary>
    private static Tensor Remap(this Tape tape, Tensor x, ReadOnlySpan<RemapAxis> axes, float fill, string kind) =>
        tape.Next<RemapNode>().Forward(tape, x, axes, fill, kind);

    /// <summary>Row-major strides of <paramref name="shape"/> into <paramref name="strides"/> (the last axis has stride 1).</summary>
    private static void RowMajorStrides(Shape shape, Span<int> strides)
    {
        int stride = 1;
        for (int a = shape.Rank - 1; a >= 0; a--)
        {
            strides[a] = stride;
            stride *= shape[a];
        }
    }

    private static string Format(ReadOnlySpan<int> values) => "[" + string.Join(", ", values.ToArray()) + "]";
}

/// <summary>
/// A remap (see <see cref="RemapPlan"/>): forward gathers through the backend's RemapForward; backward scatters the
/// gradient back with RemapBackward, adding where several outputs read one input (tile, expand, edge/reflect/wrap pads).
/// Its kind names the helper that built it ("Transpose", "Slice", "Pad", "Expand", "Tile" or "Remap").
/// </summary>
public sealed class RemapNode : Node
{
    private string _kind = "Remap";

    public override string Kind => _kind;
    public RemapPlan Plan { get; private set; } = null!;
    public Tensor Input => Inputs[0];

    internal Tensor Forward(Tape tape, Tensor input, RemapPlan plan, string kind)
    {
        Plan = plan;
        return Run(tape, input, kind);
    }

    internal Tensor Forward(Tape tape, Tensor input, ReadOnlySpan<RemapAxis> axes, float fill, string kind)
    {
        if (Plan is null || !Plan.Matches(axes, fill)) Plan = new RemapPlan(axes.ToArray(), fill);
        return Run(tape, input, kind);
    }

    private Tensor Run(Tape tape, Tensor input, string kind)
    {
        _kind = kind;
        SetInputs(input);
        var output = EnsureOutput(tape, Plan.OutputDims);
        tape.Kernels.RemapForward(output, input, Plan);
        return output;
    }

    public override void Backward(IKernels kernels)
    {
        if (GradOf(Input) is { } dInput) kernels.RemapBackward(dInput, Output.Grad!, Plan);
    }
}
