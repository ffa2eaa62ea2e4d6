using NanoCam.Cpu.Simd;
using NanoCam.Explain.Methods;
using NanoCam.Explain.Tests.Zoo;
using NanoCam.Onnx;

namespace NanoCam.Explain.Tests;

/// <summary>
/// Which layer a method explains when none is named, and why a method does not apply, known before any pass: CAM on
/// SqueezeNet reads fire9/concat_1 (its conv10 classifier's input), not the last spatial layer conv10_2; CAM on the MNIST
/// ONNX model (no global average pooling) does not apply, nor does abn-attention to either (no attention branch); every
/// other method applies to both.
/// </summary>
public sealed class MethodApplicabilityTests
{
    private static readonly SimdKernels Kernels = new(threads: 2);

    private static OnnxExplainable Load(string file) => new(OnnxModel.Load(ZooModel.PathOf(Path.Combine("..", file))), null);

    [Fact]
    public void Cam_WithoutALayer_ExplainsTheLayerItsClassWeightsApplyTo_OnSqueezeNet()
    {
        var squeezeNet = Load("SqueezeNet_fp32_from_fp16.onnx");
        var explainer = new CamExplainer(squeezeNet, Kernels);
        Assert.Equal("conv10_2", squeezeNet.DefaultLayer);
        Assert.Equal("fire9/concat_1", explainer.LayerFor(new Cam(), null));
        Assert.Equal("conv10_2", explainer.LayerFor(new GradCam(), null));

        var input = TestNets.Images(3, 1, 3, 224, 224);
        var implicitLayer = explainer.Explain(new Cam(), input, CamTarget.Class(243));
        Assert.Equal("fire9/concat_1", implicitLayer.Capture.Layer);
        var explicitLayer = explainer.Explain(new Cam(), input, CamTarget.Class(243), "fire9/concat_1");
        Assert.Equal(explicitLayer.Normalized, implicitLayer.Normalized);

        Assert.Equal("class weights apply to layer 'fire9/concat_1', not 'conv10_2'", new Cam().WhyNotApplicable(squeezeNet, "conv10_2"));
        var refused = Assert.Throws<InvalidOperationException>(() => explainer.Explain(new Cam(), input, CamTarget.Class(243), "conv10_2"));
        Assert.Equal("cam: class weights apply to layer 'fire9/concat_1', not 'conv10_2'", refused.Message);
    }

    [Fact]
    public void Cam_DoesNotApply_WithoutAGapHead_AndEveryOtherMethodDoes()
    {
        var mnist = Load("mnist.onnx");
        var squeezeNet = Load("SqueezeNet_fp32_from_fp16.onnx");
        Assert.Equal("this network has no global-average-pooling + linear classifier head; use gradcam", new Cam().WhyNotApplicable(mnist, mnist.DefaultLayer));
        Assert.Null(new Cam().WhyNotApplicable(squeezeNet, "fire9/concat_1"));
        const string noBranch = "this network has no attention branch (train one with --arch abn-vgg or abn-resnet)";
        Assert.Equal(noBranch, new AbnAttention().WhyNotApplicable(mnist, mnist.DefaultLayer));
        Assert.Equal(noBranch, new AbnAttention().WhyNotApplicable(squeezeNet, squeezeNet.DefaultLayer));
        foreach (var name in CamMethods.Names.Where(name => name is not "cam" and not "abn-attention"))
        {
            Assert.Null(CamMethods.Create(name).WhyNotApplicable(mnist, mnist.DefaultLayer));
            Assert.Null(CamMethods.Create(name).WhyNotApplicable(squeezeNet, squeezeNet.DefaultLayer));
        }
    }
}
