namespace NanoCam;

/// <summary>
/// A constant convolution weight that a backend prepared once for repeated inference (the SIMD backend: its GEMM's
/// packed panels). Opaque outside the backend that made it, and valid only while the weight's values stay as they were.
/// </summary>
public abstract class PreparedConvWeight;

/// <summary>
/// <see cref="IKernels.Conv2dInference"/> composed from the training kernels, for backends without a fused one:
/// the convolution into a temporary, the epilogue's activation in place (the backend's own element-wise kernels), then the copy into the output's channel slice (as concat does).
/// </summary>
public static class ComposedConvInference
{
    public static void Run(IKernels kernels, Tensor output, int channelOffset, Tensor input, Tensor weight, Tensor? bias, Conv2dGeometry g, ConvEpilogue epilogue)
    {
        if (output.Shape.Rank != 4 || output.Shape[0] != g.Batch || output.Shape[2] != g.OutputHeight || output.Shape[3] != g.OutputWidth
            || channelOffset < 0 || channelOffset + g.OutputChannels > output.Shape[1])
            throw new ArgumentException($"conv2d inference: output {output.Shape} has no room for {g.OutputChannels} channels at offset {channelOffset} of {g.OutputShape}");
        var temporary = kernels.Allocate(g.OutputShape);
        try
        {
            kernels.Conv2dForward(temporary, input, weight, bias, g);
            epilogue.ApplyInPlace(kernels, temporary);
            kernels.ConcatForward(output, temporary, 1, channelOffset);
        }
        finally
        {
            (temporary.Buffer as IDisposable)?.Dispose();
        }
    }
}
