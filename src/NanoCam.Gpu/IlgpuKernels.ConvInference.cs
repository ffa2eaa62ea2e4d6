namespace NanoCam.Gpu;

public sealed partial class IlgpuKernels
{
    /// <summary>Nothing to prepare: the device convolution reads the weight as it is.</summary>
    public PreparedConvWeight? PrepareConv2dWeight(Tensor weight, Conv2dGeometry g) => null;

    /// <summary>Composed from the device's convolution, element-wise (the epilogue's activation) and concat kernels (ONNX models run on the CPU backends).</summary>
    public void Conv2dInference(Tensor output, int channelOffset, Tensor input, Tensor weight, Tensor? bias, Conv2dGeometry g, ConvEpilogue epilogue, PreparedConvWeight? prepared) =>
        ComposedConvInference.Run(this, output, channelOffset, input, weight, bias, g, epilogue);
}
