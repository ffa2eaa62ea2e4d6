using NanoCam.Autodiff;

namespace NanoCam.Onnx;

/// <summary>
/// An imported convolution in a no-grad pass (<see cref="IKernels.Conv2dInference"/>): act(conv(x, w) + b) into its own
/// output, or into its channel slice of a concat's output (shared with the other convolutions that fill it). It keeps
/// nothing for backward, and a no-grad tape never runs one.
/// </summary>
internal sealed class InferenceConvNode : Node
{
    public override string Kind => "Conv2d";

    /// <param name="shared">The concat output an earlier convolution of the group allocated, or null to own the output.</param>
    /// <param name="dims">The output to own when <paramref name="shared"/> is null: [N, K, OH, OW], or a whole concat output.</param>
    public Tensor Forward(Tape tape, Tensor? shared, ReadOnlySpan<int> dims, int channelOffset, Tensor x, Tensor w, Tensor? b, Conv2dGeometry g, ConvEpilogue epilogue, PreparedConvWeight? prepared)
    {
        SetInputs(x, w, b);
        var output = shared is null ? EnsureOutput(tape, dims) : EnsureViewOutput(tape, shared, shared.Shape.Dims);
        tape.Kernels.Conv2dInference(output, channelOffset, x, w, b, g, epilogue, prepared);
        return output;
    }

    public override void Backward(IKernels kernels) =>
        throw new InvalidOperationException("an inference convolution runs only in no-grad passes and has no backward rule");
}
