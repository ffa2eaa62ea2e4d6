using NanoCam.Explain.Methods;

namespace NanoCam.Explain.Tests;

/// <summary>XGrad-CAM, HiResCAM, element-wise Grad-CAM and LayerCAM against their formulas.</summary>
public class GradientMapTests
{
    private static CamResult ExplainHidden(CamMethod method, int seed)
    {
        var explainer = TestNets.Explainer(TestNets.TwoConv(1, 4, 5, 3, seed));
        return explainer.Explain(method, TestNets.Images(seed + 1, 2, 1, 6, 6), CamTarget.Class(2), "features.1");
    }

    /// <summary>map_p = Σ_k term(A^k_p, G^k_p) by plain loops.</summary>
    private static float[] PerPosition(LayerCapture c, int n, Func<float, float, float> term)
    {
        var map = new float[c.Plane];
        for (int k = 0; k < c.Channels; k++)
            for (int p = 0; p < c.Plane; p++)
            {
                int i = (n * c.Channels + k) * c.Plane + p;
                map[p] += term(c.Activations[i], c.Gradients![i]);
            }
        return map;
    }

    [Fact]
    public void XGradCam_WeightsAreGradientsAveragedWithActivationWeights()
    {
        var result = ExplainHidden(new XGradCam(), 51);
        var c = result.Capture;
        for (int n = 0; n < 2; n++)
            for (int k = 0; k < c.Channels; k++)
            {
                double weighted = 0, sum = 0;
                for (int p = 0; p < c.Plane; p++)
                {
                    int i = (n * c.Channels + k) * c.Plane + p;
                    weighted += c.Activations[i] * c.Gradients![i];
                    sum += c.Activations[i];
                }
                Assert.Equal((float)(weighted / (sum + XGradCam.PyTorchGradCamEpsilon)), result.ChannelWeightsOf(n)[k], 1e-5f);
            }
    }

    [Theory]
    [InlineData(XGradCam.PyTorchGradCamEpsilon, 1f / 11f)]
    [InlineData(0f, 1f)]
    public void XGradCam_ChannelWithATinyActivationSum_IsDampedByEpsilon(float epsilon, float expected)
    {
        // One channel of two positions, A = (1e-8, 0), ∂y/∂A = (1, 1): α = 1e-8 / (1e-8 + ε) — 1/11 with
        // pytorch-grad-cam's ε = 1e-7, 1 without. A channel of zeros gets 0 with either.
        var capture = new LayerCapture("layer", 1, 2, 1, 2, [1e-8f, 0f, 0f, 0f], [1f, 1f, 1f, 1f], [0f], 1, [0]);
        var context = new CamContext(capture, null!, null!, null!, CamTarget.Class(0));
        var weights = new float[2];
        new XGradCam(epsilon).ChannelWeights(context, weights);
        Assert.Equal(expected, weights[0], 1e-6f);
        Assert.Equal(0f, weights[1]);
    }

    [Fact]
    public void HiResCam_IsTheChannelSumOfGradientTimesActivation()
    {
        var result = ExplainHidden(new HiResCam(), 61);
        Assert.Null(result.ChannelWeights);
        for (int n = 0; n < 2; n++)
        {
            var expected = PerPosition(result.Capture, n, (a, g) => g * a);
            TestNets.AssertClose(expected, result.WeightedSumOf(n), 1e-5f);
            TestNets.AssertClose(expected.Select(v => MathF.Max(v, 0f)).ToArray(), result.MapOf(n), 1e-5f);
        }
    }

    [Fact]
    public void HiResCam_RightBeforeGap_EqualsGradCam_AndCamDividedByZ()
    {
        // Before GAP + FC, ∂y^c/∂A^k_ij = w_k^c / Z everywhere: HiResCAM = Σ_k (w_k^c/Z) A^k = Grad-CAM = CAM / Z.
        var explainer = TestNets.Explainer(TestNets.OneConv(2, 5, 3, seed: 71, randomBias: true));
        var images = TestNets.Images(72, 2, 2, 5, 5);
        var hiRes = explainer.Explain(new HiResCam(), images, CamTarget.Class(1));
        var gradCam = explainer.Explain(new GradCam(), images, CamTarget.Class(1));
        var cam = explainer.Explain(new Cam(), images, CamTarget.Class(1));
        TestNets.AssertClose(gradCam.WeightedSum, hiRes.WeightedSum, 1e-5f);
        TestNets.AssertClose(cam.WeightedSum.Select(v => v / 25f).ToArray(), hiRes.WeightedSum, 1e-5f);
        TestNets.AssertClose(gradCam.Normalized, hiRes.Normalized, 1e-4f);
    }

    [Fact]
    public void GradCamElementwise_IsTheChannelSumOfRectifiedProducts()
    {
        var result = ExplainHidden(new GradCamElementwise(), 81);
        for (int n = 0; n < 2; n++)
            TestNets.AssertClose(PerPosition(result.Capture, n, (a, g) => MathF.Max(g * a, 0f)), result.WeightedSumOf(n), 1e-5f);
    }

    [Fact]
    public void LayerCam_IsTheChannelSumOfRectifiedGradientTimesActivation()
    {
        var result = ExplainHidden(new LayerCam(), 91);
        for (int n = 0; n < 2; n++)
            TestNets.AssertClose(PerPosition(result.Capture, n, (a, g) => MathF.Max(g, 0f) * a), result.WeightedSumOf(n), 1e-5f);
    }

    [Fact]
    public void LayerCamFused_IsTheElementwiseMaximumOfTheTanhRescaledShallowMapAndTheScaledDeepMap_Renormalized()
    {
        var explainer = TestNets.Explainer(TestNets.TwoConv(1, 4, 5, 3, seed: 101));
        var images = TestNets.Images(102, 2, 1, 6, 6);
        string[] layers = ["features.1", "features"];
        var fused = LayerCam.ExplainFused(explainer, images, CamTarget.Class(0), layers);
        Assert.Equal(2, fused.Layers.Count);
        for (int n = 0; n < 2; n++)
        {
            // LayerCAM Sec. 3.3: the shallow map becomes tanh(2·M/max M), the deepest M/max M; then max, then min–max.
            var shallow = explainer.Explain(new LayerCam(), images, CamTarget.Class(0), "features.1").UpsampledOf(n).ToArray();
            var deep = explainer.Explain(new LayerCam(), images, CamTarget.Class(0), "features").UpsampledOf(n).ToArray();
            float shallowMax = shallow.Max(), deepMax = deep.Max();
            var maximum = shallow.Zip(deep, (a, b) => MathF.Max(MathF.Tanh(2f * a / shallowMax), b / deepMax)).ToArray();
            float min = maximum.Min(), max = maximum.Max();
            TestNets.AssertClose(maximum, fused.MaximumOf(n), 1e-6f);
            TestNets.AssertClose(maximum.Select(v => (v - min) / (max - min)).ToArray(), fused.FusedOf(n), 1e-5f);
        }
    }
}
