using NanoCam.Cpu.Simd;
using NanoCam.Explain.Methods;
using NanoCam.Explain.Tests.Zoo;
using NanoCam.Onnx;
using NanoCam.Nn.Checkpoints;
using NanoCam.Nn.Models;

namespace NanoCam.Explain.Tests;

public class AblationCamTests
{
    private static void ZeroChannel(Tensor layer, int k)
    {
        int plane = layer.Shape[2] * layer.Shape[3];
        layer.Span.Slice(k * plane, plane).Clear();
    }

    [Fact]
    public void AblationCam_Batched_EqualsOneAblatedPassAtATime()
    {
        var explainer = TestNets.Explainer(TestNets.TwoConv(1, 4, 5, 3, seed: 161));
        var images = TestNets.Images(162, 2, 1, 6, 6);
        var result = explainer.Explain(new AblationCam(batchSize: 3), images, CamTarget.Class(1), "features.1");
        var c = result.Capture;
        for (int n = 0; n < 2; n++)
        {
            float y = c.TargetScore(n);
            for (int k = 0; k < c.Channels; k++)
            {
                int channel = k;
                var ablated = explainer.ScoresOf(TestNets.ImageOf(images, n), tape => tape.AddForwardHook("features.1", t => ZeroChannel(t, channel)))[1];
                Assert.Equal((y - ablated) / y, result.ChannelWeightsOf(n)[k], 1e-4f);
            }
        }
        foreach (var batch in new[] { 1, 32 })
            TestNets.AssertClose(result.ChannelWeights!, explainer.Explain(new AblationCam(batch), images, CamTarget.Class(1), "features.1").ChannelWeights!, 1e-6f);
    }

    [Fact]
    public void AblationCam_RightBeforeGap_DropIsClassWeightTimesChannelMean()
    {
        // y^c = Σ_k w_k^c mean(A^k) + b_c, so zeroing A^k lowers y^c by exactly w_k^c · mean(A^k).
        var model = TestNets.OneConv(2, 5, 3, seed: 171, randomBias: true);
        var explainer = TestNets.Explainer(model);
        var result = explainer.Explain(new AblationCam(), TestNets.Images(172, 1, 2, 5, 5), CamTarget.Class(0));
        var c = result.Capture;
        float y = c.TargetScore(0);
        for (int k = 0; k < c.Channels; k++)
        {
            float drop = model.Classifier.Weight.Value[0, k] * c.ActivationPlane(0, k).ToArray().Average();
            Assert.Equal(drop / y, result.ChannelWeightsOf(0)[k], 1e-4f);
        }
    }

    /// <summary>
    /// The shipped shapes checkpoint: Ablation-CAM that runs only the part above the layer (from the captured
    /// activations, channel k zeroed) gives the maps of the whole ablated passes from the image (a forward hook zeroing
    /// channel k at the layer), at the feature layer and at a layer inside the feature stack, batched and not.
    /// </summary>
    [Fact]
    public void AblationCam_AboveTheLayer_GivesTheMapsOfWholeAblatedPasses_OnTheShapesCheckpoint()
    {
        var path = RepositoryFiles.PathOf("weights/shapes-vgg.safetensors");
        var metadata = ModelMetadata.Load(ModelMetadata.PathFor(path));
        var network = (GapCnn)Architectures.Create(metadata.Architecture, metadata.InputChannels, metadata.Classes.Length, metadata.Seed);
        Checkpoint.Load(network, path);
        using var kernels = new SimdKernels(1);
        network.MoveTo(kernels);
        var explainer = new CamExplainer(new ModuleExplainable(network), kernels);
        var images = TestNets.Images(181, 2, metadata.InputChannels, metadata.InputHeight, metadata.InputWidth);
        string inner = network.Features.Children[network.Features.Children.Count / 2].Module.Path;
        foreach (var layer in new[] { GapCnn.FeatureLayer, inner })
        foreach (var batch in new[] { 7, 32 })
        {
            var whole = explainer.Explain(new AblationCam(batch) { AboveLayer = false }, images, CamTarget.TopPrediction(), layer);
            var above = explainer.Explain(new AblationCam(batch), images, CamTarget.TopPrediction(), layer);
            TestNets.AssertClose(whole.ChannelWeights!, above.ChannelWeights!, 1e-5f);
            TestNets.AssertClose(whole.Normalized, above.Normalized, 1e-5f);
        }
    }

    /// <summary>
    /// Imported models: the part of the graph above the layer, cut out as its own model, gives the scores of the whole
    /// ablated passes (a forward hook zeroing channel k at the layer): same maps within 1e-5 (SqueezeNet, and zoo
    /// models whose default layer's part above reads nothing from below it).
    /// </summary>
    [Theory]
    [InlineData("../SqueezeNet_fp32_from_fp16.onnx")]
    [InlineData("mobilenet_v3_small_op13.onnx")]
    [InlineData("mnasnet0_5.onnx")]
    [InlineData("convnext_tiny_narrow.onnx")]
    [InlineData("mobilenet_v3_small_op17_dynamic.onnx", 2)]
    public void AblationCam_AboveTheLayer_GivesTheMapsOfWholeAblatedPasses_OnImportedModels(string file, int images = 1)
    {
        var model = new OnnxExplainable(OnnxModel.Load(ZooModel.PathOf(file)), null);
        using var kernels = new SimdKernels(1);
        var explainer = new CamExplainer(model, kernels);
        var shape = model.InputShape;
        var image = TestNets.Images(191, images, shape[1], shape[2], shape[3]);
        var whole = explainer.Explain(new AblationCam() { AboveLayer = false }, image, CamTarget.TopPrediction());
        var above = explainer.Explain(new AblationCam(), image, CamTarget.TopPrediction());
        var c = whole.Capture;
        Assert.NotNull(model.ScoresAbove(new Autodiff.Tape(kernels) { GradEnabled = false }, c.Layer,
            Tensor.FromArray(c.Activations.AsSpan(0, c.Channels * c.Plane).ToArray(), 1, c.Channels, c.Height, c.Width)));
        TestNets.AssertClose(whole.Normalized, above.Normalized, 1e-5f);
    }
}
