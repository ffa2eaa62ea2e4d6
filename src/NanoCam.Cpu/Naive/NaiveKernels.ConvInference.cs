namespace NanoCam.Cpu.Naive;

public sealed partial class NaiveKernels
{
    /// <summary>The reference prepares nothing.</summary>
    public PreparedConvWeight? PrepareConv2dWeight(Tensor weight, Conv2dGeometry g) => null;

    /// <summary>The reference definition: convolution, then the epilogue's activation, then the copy into the channel slice.</summary>
    public void Conv2dInference(Tensor output, int channelOffset, Tensor input, Tensor weight, Tensor? bias, Conv2dGeometry g, ConvEpilogue epilogue, PreparedConvWeight? prepared) =>
        ComposedConvInference.Run(this, output, channelOffset, input, weight, bias, g, epilogue);
}
