using NanoCam.Autodiff;
using NanoCam.Cpu.Simd;
using NanoCam.Explain.Methods;
using NanoCam.Explain.Tests.Zoo;
using NanoCam.Onnx;

namespace NanoCam.Explain.Tests;

/// <summary>Score-CAM, SS-CAM and IS-CAM: channel weights are scores of masked inputs, computed here one by one.</summary>
public class ScoreCamTests
{
    private const int Size = 6;

    /// <summary>
    /// M_k: A^k upsampled to the input and min–max scaled by plain loops (zeros when flat): the authors' way (half-pixel
    /// centres, no ε), or pytorch-grad-cam's (aligned corners, ε = 1e-8).
    /// </summary>
    private static float[] Mask(LayerCapture c, int n, int k, ScoreCamConvention convention = ScoreCamConvention.Authors)
    {
        var up = new float[Size * Size];
        if (convention == ScoreCamConvention.Authors) MapOps.Upsample(c.ActivationPlane(n, k), c.Height, c.Width, up, Size, Size);
        else MapOps.UpsampleAlignCorners(c.ActivationPlane(n, k), c.Height, c.Width, up, Size, Size);
        float min = up.Min(), max = up.Max(), epsilon = convention == ScoreCamConvention.Authors ? 0f : 1e-8f;
        return up.Select(v => max > min ? (v - min) / (max - min + epsilon) : 0f).ToArray();
    }

    /// <summary>f(image ⊙ scale·mask) for one image alone: all class scores.</summary>
    private static float[] MaskedScores(CamExplainer explainer, Tensor images, int n, float[] mask, float scale)
    {
        var image = TestNets.ImageOf(images, n);
        var s = image.Span;
        for (int ch = 0; ch < s.Length / mask.Length; ch++)
            for (int p = 0; p < mask.Length; p++) s[ch * mask.Length + p] *= scale * mask[p];
        return explainer.ScoresOf(image);
    }

    /// <summary>softmax(f(image ⊙ scale·mask))_c for one image alone.</summary>
    private static float MaskedScore(CamExplainer explainer, Tensor images, int n, float[] mask, float scale, int cls) =>
        TestNets.Softmax(MaskedScores(explainer, images, n, mask, scale), cls);

    private static (CamExplainer Explainer, Tensor Images) Setup(int seed) =>
        (TestNets.Explainer(TestNets.TwoConv(2, 3, 4, 3, seed)), TestNets.Images(seed + 1, 2, 2, Size, Size));

    [Fact]
    public void ScoreCam_WeightsAreTheSoftmaxOverChannelsOfMaskedScores_ComputedOneByOne()
    {
        // pytorch-grad-cam's convention (the default): w_k = e^{y_k} / Σ_j e^{y_j}, y_k = f(x ⊙ M_k)_c, over the channels.
        var (explainer, images) = Setup(111);
        var result = explainer.Explain(new ScoreCam(batchSize: 3), images, CamTarget.Class(1), "features.1");
        var c = result.Capture;
        for (int n = 0; n < 2; n++)
        {
            var scores = Enumerable.Range(0, c.Channels)
                .Select(k => MaskedScores(explainer, images, n, Mask(c, n, k, ScoreCamConvention.PyTorchGradCam), 1f)[1]).ToArray();
            for (int k = 0; k < c.Channels; k++)
                Assert.Equal(TestNets.Softmax(scores, k), result.ChannelWeightsOf(n)[k], 1e-5f);
            Assert.Equal(1f, result.ChannelWeightsOf(n).ToArray().Sum(), 1e-5f);
            TestNets.AssertClose(TestNets.WeightedSum(c, n, result.ChannelWeightsOf(n)), result.WeightedSumOf(n), 1e-5f);
        }
    }

    [Fact]
    public void ScoreCam_AuthorsConvention_WeightsAreClassProbabilitiesOfMaskedInputs_ComputedOneByOne()
    {
        var (explainer, images) = Setup(111);
        var result = explainer.Explain(new ScoreCam(batchSize: 3, ScoreCamConvention.Authors), images, CamTarget.Class(1), "features.1");
        var c = result.Capture;
        for (int n = 0; n < 2; n++)
        {
            for (int k = 0; k < c.Channels; k++)
                Assert.Equal(MaskedScore(explainer, images, n, Mask(c, n, k), 1f, 1), result.ChannelWeightsOf(n)[k], 1e-5f);
            TestNets.AssertClose(TestNets.WeightedSum(c, n, result.ChannelWeightsOf(n)), result.WeightedSumOf(n), 1e-5f);
        }
    }

    [Fact]
    public void ScoreCam_BatchSizeDoesNotChangeTheWeights()
    {
        var (explainer, images) = Setup(121);
        var one = explainer.Explain(new ScoreCam(batchSize: 1), images, CamTarget.TopPrediction(), "features.1");
        var five = explainer.Explain(new ScoreCam(batchSize: 5), images, CamTarget.TopPrediction(), "features.1");
        var all = explainer.Explain(new ScoreCam(), images, CamTarget.TopPrediction(), "features.1");
        TestNets.AssertClose(one.ChannelWeights!, five.ChannelWeights!, 1e-6f);
        TestNets.AssertClose(one.ChannelWeights!, all.ChannelWeights!, 1e-6f);
    }

    [Fact]
    public void SmoothedScoreCam_WithZeroNoise_EqualsScoreCam()
    {
        var (explainer, images) = Setup(131);
        var score = explainer.Explain(new ScoreCam(convention: ScoreCamConvention.Authors), images, CamTarget.Class(0));
        var smooth = explainer.Explain(new SmoothedScoreCam(samples: 2, sigma: 0f), images, CamTarget.Class(0));
        TestNets.AssertClose(score.ChannelWeights!, smooth.ChannelWeights!, 1e-6f);
    }

    [Fact]
    public void SmoothedScoreCam_AveragesScoresOverSeededNoisyMasks()
    {
        var (explainer, images) = Setup(141);
        var method = new SmoothedScoreCam(samples: 3, sigma: 0.25f, seed: 5, batchSize: 4);
        var result = explainer.Explain(method, images, CamTarget.Class(2), "features.1");
        var c = result.Capture;
        for (int n = 0; n < 2; n++)
            for (int k = 0; k < c.Channels; k++)
            {
                float sum = 0f;
                for (int s = 0; s < 3; s++)
                {
                    var mask = Mask(c, n, k);
                    MapOps.AddGaussianNoise(new Random(method.NoiseSeed(n, k, s)), mask, 0.25f);
                    sum += MaskedScore(explainer, images, n, mask, 1f, 2);
                }
                Assert.Equal(sum / 3, result.ChannelWeightsOf(n)[k], 1e-5f);
            }
        var other = explainer.Explain(new SmoothedScoreCam(samples: 3, sigma: 0.25f, seed: 6), images, CamTarget.Class(2), "features.1");
        Assert.NotEqual(result.ChannelWeights, other.ChannelWeights);
    }

    [Fact]
    public void IntegratedScoreCam_AveragesScoresAlongScaledMasks_AndOneStepIsScoreCam()
    {
        var (explainer, images) = Setup(151);
        const int steps = 4;
        var result = explainer.Explain(new IntegratedScoreCam(steps, batchSize: 7), images, CamTarget.Class(1), "features.1");
        var c = result.Capture;
        for (int n = 0; n < 2; n++)
            for (int k = 0; k < c.Channels; k++)
            {
                float sum = 0f;
                for (int i = 1; i <= steps; i++) sum += MaskedScore(explainer, images, n, Mask(c, n, k), (float)i / steps, 1);
                Assert.Equal(sum / steps, result.ChannelWeightsOf(n)[k], 1e-5f);
            }
        var oneStep = explainer.Explain(new IntegratedScoreCam(1), images, CamTarget.Class(1), "features.1");
        var score = explainer.Explain(new ScoreCam(convention: ScoreCamConvention.Authors), images, CamTarget.Class(1), "features.1");
        TestNets.AssertClose(score.ChannelWeights!, oneStep.ChannelWeights!, 1e-6f);
    }

    /// <summary>
    /// An imported model's masked inputs run one at a time (<see cref="OnnxExplainable.PerturbationBatch"/>): the same
    /// maps as the same model run in batches of the method's size (a wrapper that leaves the batch alone), within 1e-5.
    /// </summary>
    [Theory]
    [InlineData("densenet_tiny.onnx")]
    [InlineData("mobilenet_v3_small_op13.onnx")]
    public void ScoreCam_OnAnImportedModel_OneImageAPass_GivesTheMapsOfBatchedPasses(string file)
    {
        var model = new OnnxExplainable(OnnxModel.Load(ZooModel.PathOf(file)), null);
        Assert.Equal(1, ((IExplainable)model).PerturbationBatch);
        using var kernels = new SimdKernels(1);
        var shape = model.InputShape;
        var image = TestNets.Images(201, 1, shape[1], shape[2], shape[3]);
        foreach (var method in new CamMethod[] { new ScoreCam(batchSize: 16), new IntegratedScoreCam(steps: 2, batchSize: 16) })
        {
            var one = new CamExplainer(model, kernels).Explain(method, image, CamTarget.TopPrediction());
            var batched = new CamExplainer(new Batched(model), kernels).Explain(method, image, CamTarget.TopPrediction());
            TestNets.AssertClose(batched.ChannelWeights!, one.ChannelWeights!, 1e-5f);
            TestNets.AssertClose(batched.Normalized, one.Normalized, 1e-5f);
        }
    }

    /// <summary>A model as it is, except that its perturbed passes take any batch.</summary>
    private sealed class Batched(OnnxExplainable inner) : ForwardingExplainable(inner);
}
