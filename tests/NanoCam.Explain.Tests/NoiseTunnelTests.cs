using NanoCam.Explain.Methods;
using NanoCam.Nn.Models;
using NanoCam.Nn.Modules;

namespace NanoCam.Explain.Tests;

/// <summary>The noise tunnel around CAM-family and input-space methods: known answers at σ = 0 and on a linear model.</summary>
public class NoiseTunnelTests
{
    [Fact]
    public void NoiseTunnel_WithNoNoise_GivesExactlyThePlainMap()
    {
        var explainer = TestNets.Explainer(TestNets.TwoConv(2, 4, 5, 3, seed: 121));
        var images = TestNets.Images(122, 2, 2, 7, 7);
        var plain = explainer.Explain(new GradCam(), images, CamTarget.TopPrediction(), "features.1");
        var smoothed = new NoiseTunnel(3, 0f).Explain(explainer, new GradCam(), images, CamTarget.TopPrediction(), "features.1");
        Assert.Equal(plain.Upsampled, smoothed.Raw);
        Assert.Equal(plain.Normalized, smoothed.Normalized);
        Assert.Equal(plain.Capture.TargetClasses, smoothed.TargetClasses);
    }

    [Fact]
    public void NoiseTunnel_IsTheMeanOfTheMapsOfTheNoisyCopies_ExplainedOneByOne()
    {
        var explainer = TestNets.Explainer(TestNets.TwoConv(2, 4, 5, 3, seed: 131));
        var images = TestNets.Images(132, 2, 2, 7, 7);
        var tunnel = new NoiseTunnel(4, 0.2f, seed: 5);
        var smoothed = tunnel.Explain(explainer, new LayerCam(), images, CamTarget.TopPrediction(), "features.1");
        var copies = tunnel.NoisyCopies(images);
        var classes = explainer.Explain(new LayerCam(), images, CamTarget.TopPrediction(), "features.1").Capture.TargetClasses;
        for (int i = 0; i < 2; i++)
        {
            var mean = new double[49];
            for (int s = 0; s < 4; s++)
            {
                var one = explainer.Explain(new LayerCam(), TestNets.ImageOf(copies, i * 4 + s), CamTarget.Class(classes[i]), "features.1");
                for (int p = 0; p < 49; p++) mean[p] += one.Upsampled[p] / 4.0;
            }
            TestNets.AssertClose([.. mean.Select(v => (float)v)], smoothed.Raw.AsSpan(i * 49, 49), 1e-5f);
        }
        var plain = explainer.Explain(new LayerCam(), images, CamTarget.TopPrediction(), "features.1");
        Assert.NotEqual(plain.Upsampled, smoothed.Raw);
    }

    [Fact]
    public void NoiseTunnel_IsReproducibleBySeed()
    {
        var images = TestNets.Images(142, 1, 2, 5, 5);
        Assert.Equal(new NoiseTunnel(3, 0.1f, 7).NoisyCopies(images).ToArray(), new NoiseTunnel(3, 0.1f, 7).NoisyCopies(images).ToArray());
        Assert.NotEqual(new NoiseTunnel(3, 0.1f, 7).NoisyCopies(images).ToArray(), new NoiseTunnel(3, 0.1f, 8).NoisyCopies(images).ToArray());
    }

    [Fact]
    public void NoiseTunnel_OfALinearModelsSaliency_EqualsThePlainSaliency()
    {
        // conv → GAP → FC with no ReLU: y is linear in x, so ∂y^c/∂x is the same at every noisy copy.
        var model = new GapCnn(new Sequential(new Conv2d(2, 3, 3, padding: 1, rng: new Random(151))), 3, 4, new Random(152));
        var explainer = TestNets.Explainer(model);
        var images = TestNets.Images(153, 2, 2, 6, 6);
        var plain = new Saliency().Explain(explainer, images, CamTarget.TopPrediction());
        var smoothed = new NoiseTunnel(5, 0.5f).Explain(explainer, new Saliency(), images, CamTarget.TopPrediction());
        Assert.Equal(plain.TargetClasses, smoothed.TargetClasses);
        TestNets.AssertClose(plain.Values, smoothed.Values, 1e-6f);
        // The copies do differ, so the equality is the model's linearity, not an absence of noise.
        Assert.NotEqual(images.ToArray(), new NoiseTunnel(5, 0.5f).NoisyCopies(images).ToArray().AsSpan(0, images.Size).ToArray());
    }

    [Fact]
    public void NoiseTunnel_AroundAFusedMap_WithNoNoise_GivesThePlainFusedMap()
    {
        var explainer = TestNets.Explainer(TestNets.TwoConv(2, 4, 5, 3, seed: 161));
        var images = TestNets.Images(162, 2, 2, 7, 7);
        string[] layers = ["features.1", "features"];
        var plain = LayerFusion.Explain(explainer, new GradCam(), images, CamTarget.TopPrediction(), layers);
        var smoothed = new NoiseTunnel(2, 0f).ExplainFused(explainer, new GradCam(), images, CamTarget.TopPrediction(), layers);
        Assert.Equal(plain.Maximum, smoothed.Raw);
        Assert.Equal(plain.Fused, smoothed.Normalized);
    }
}
