using NanoCam.Explain.Methods;

namespace NanoCam.Explain.Tests;

public class GradCamPlusPlusTests
{
    private static float ExpectedWeight(float[] activations, float[] gradients, float[] squares, float[] cubes, int offset, int plane)
    {
        double activationSum = 0, weight = 0;
        for (int p = 0; p < plane; p++) activationSum += activations[offset + p];
        for (int p = 0; p < plane; p++)
        {
            double g = gradients[offset + p];
            double denominator = 2 * squares[offset + p] + activationSum * cubes[offset + p];
            if (denominator != 0) weight += squares[offset + p] / denominator * Math.Max(g, 0);
        }
        return (float)weight;
    }

    [Fact]
    public void GradCamPlusPlus_WeightsFollowEquation19_AtAHiddenLayer()
    {
        var explainer = TestNets.Explainer(TestNets.TwoConv(1, 4, 5, 3, seed: 11));
        var images = TestNets.Images(12, 2, 1, 6, 6);
        var result = explainer.Explain(new GradCamPlusPlus(), images, CamTarget.Class(1), "features.1");
        var c = result.Capture;
        var g = c.Gradients!;
        var squares = g.Select(v => v * v).ToArray();
        var cubes = g.Select(v => v * v * v).ToArray();
        for (int n = 0; n < 2; n++)
        {
            var expected = new float[c.Channels];
            for (int k = 0; k < c.Channels; k++)
                expected[k] = ExpectedWeight(c.Activations, g, squares, cubes, (n * c.Channels + k) * c.Plane, c.Plane);
            TestNets.AssertClose(expected, result.ChannelWeightsOf(n), 1e-5f);
            TestNets.AssertClose(TestNets.WeightedSum(c, n, expected), result.WeightedSumOf(n), 1e-5f);
        }
    }

    [Fact]
    public void GradCamPlusPlus_BeforeGap_GradientIsConstant_SoWeightIsZTimesReluGOverTwoPlusSumAG()
    {
        // ∂y^c/∂A^k_ij = g_k = w_k^c / Z at every position, so α = g²/(2g² + S_k g³) = 1/(2 + S_k g_k) and
        // w_k = Z · ReLU(g_k) / (2 + S_k g_k), with S_k = Σ_ab A^k_ab.
        var model = TestNets.OneConv(2, 6, 3, seed: 21, randomBias: true);
        var explainer = TestNets.Explainer(model);
        var result = explainer.Explain(new GradCamPlusPlus(), TestNets.Images(22, 1, 2, 5, 5), CamTarget.Class(2));
        var c = result.Capture;
        int z = c.Plane;
        for (int k = 0; k < c.Channels; k++)
        {
            float g = model.Classifier.Weight.Value[2, k] / z;
            float s = c.ActivationPlane(0, k).ToArray().Sum();
            float expected = g > 0 ? z * g / (2 + s * g) : 0f;
            Assert.Equal(expected, result.ChannelWeightsOf(0)[k], 1e-5f);
        }
    }

    [Fact]
    public void SmoothGradCamPlusPlus_WithZeroNoise_EqualsGradCamPlusPlus()
    {
        var explainer = TestNets.Explainer(TestNets.TwoConv(1, 3, 4, 3, seed: 31));
        var images = TestNets.Images(32, 2, 1, 6, 6);
        var plain = explainer.Explain(new GradCamPlusPlus(), images, CamTarget.TopPrediction(), "features.1");
        var smooth = explainer.Explain(new SmoothGradCamPlusPlus(samples: 3, sigma: 0f), images, CamTarget.TopPrediction(), "features.1");
        TestNets.AssertClose(plain.ChannelWeights!, smooth.ChannelWeights!, 1e-5f);
    }

    [Fact]
    public void SmoothGradCamPlusPlus_AveragesGradientPowersOverSeededNoisyCopies()
    {
        var explainer = TestNets.Explainer(TestNets.TwoConv(1, 3, 4, 3, seed: 41));
        var images = TestNets.Images(42, 2, 1, 6, 6);
        const int samples = 3;
        const float sigma = 0.3f;
        var result = explainer.Explain(new SmoothGradCamPlusPlus(samples, sigma, seed: 7), images, CamTarget.Class(0), "features.1");
        var c = result.Capture;
        int size = c.Gradients!.Length;
        var mean = new float[size];
        var squares = new float[size];
        var cubes = new float[size];
        for (int s = 0; s < samples; s++)
        {
            // The documented noise: sample s is drawn from new Random(seed + s) over the whole batch.
            var noisy = images.ToArray();
            MapOps.AddGaussianNoise(new Random(7 + s), noisy, sigma);
            var g = explainer.Capture(Tensor.FromArray(noisy, 2, 1, 6, 6), "features.1", CamTarget.Class(0), withGradients: true).Gradients!;
            for (int i = 0; i < size; i++)
            {
                mean[i] += g[i] / samples;
                squares[i] += g[i] * g[i] / samples;
                cubes[i] += g[i] * g[i] * g[i] / samples;
            }
        }
        for (int n = 0; n < 2; n++)
            for (int k = 0; k < c.Channels; k++)
                Assert.Equal(ExpectedWeight(c.Activations, mean, squares, cubes, (n * c.Channels + k) * c.Plane, c.Plane),
                    result.ChannelWeightsOf(n)[k], 1e-5f);
        var again = explainer.Explain(new SmoothGradCamPlusPlus(samples, sigma, seed: 7), images, CamTarget.Class(0), "features.1");
        Assert.Equal(result.ChannelWeights, again.ChannelWeights);
    }
}
