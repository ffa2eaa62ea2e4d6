using NanoCam.Explain.Methods;

namespace NanoCam.Explain.Tests;

public class GradCamPlusPlusTests
{
    private static float ExpectedWeight(float[] activations, float[] gradients, float[] squares, float[] cubes, int offset, int plane, double epsilon)
    {
        double activationSum = 0, weight = 0;
        for (int p = 0; p < plane; p++) activationSum += activations[offset + p];
        for (int p = 0; p < plane; p++)
        {
            double g = gradients[offset + p];
            double denominator = 2 * squares[offset + p] + activationSum * cubes[offset + p] + epsilon;
            if (denominator != 0) weight += squares[offset + p] / denominator * Math.Max(g, 0);
        }
        return (float)weight;
    }

    [Theory, InlineData(GradCamPlusPlus.PyTorchGradCamEpsilon), InlineData(0f)]
    public void GradCamPlusPlus_WeightsFollowEquation19_AtAHiddenLayer(float epsilon)
    {
        var explainer = TestNets.Explainer(TestNets.TwoConv(1, 4, 5, 3, seed: 11));
        var images = TestNets.Images(12, 2, 1, 6, 6);
        var result = explainer.Explain(new GradCamPlusPlus(epsilon), images, CamTarget.Class(1), "features.1");
        var c = result.Capture;
        var g = c.Gradients!;
        var squares = g.Select(v => v * v).ToArray();
        var cubes = g.Select(v => v * v * v).ToArray();
        for (int n = 0; n < 2; n++)
        {
            var expected = new float[c.Channels];
            for (int k = 0; k < c.Channels; k++)
                expected[k] = ExpectedWeight(c.Activations, g, squares, cubes, (n * c.Channels + k) * c.Plane, c.Plane, epsilon);
            TestNets.AssertClose(expected, result.ChannelWeightsOf(n), 1e-5f);
            TestNets.AssertClose(TestNets.WeightedSum(c, n, expected), result.WeightedSumOf(n), 1e-5f);
        }
    }

    [Fact]
    public void GradCamPlusPlus_BeforeGap_GradientIsConstant_SoWeightIsZTimesReluGOverTwoPlusSumAG()
    {
        // ∂y^c/∂A^k_ij = g_k = w_k^c / Z at every position, so with ε = 0, α = g²/(2g² + S_k g³) = 1/(2 + S_k g_k) and
        // w_k = Z · ReLU(g_k) / (2 + S_k g_k), with S_k = Σ_ab A^k_ab.
        var model = TestNets.OneConv(2, 6, 3, seed: 21, randomBias: true);
        var explainer = TestNets.Explainer(model);
        var result = explainer.Explain(new GradCamPlusPlus(epsilon: 0f), TestNets.Images(22, 1, 2, 5, 5), CamTarget.Class(2));
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
    public void GradCamPlusPlus_SmallGradients_AlphaFadesWithPyTorchGradCamsEpsilon()
    {
        // Classifier weights scaled by 1e-4: g_k = w_k/Z is below 1e-5, g² below 1e-10 ≪ ε = 1e-6. The paper's
        // α = 1/(2 + S g) stays near ½; pytorch-grad-cam's α = g²/(2g² + S g³ + ε) ≈ g²/ε falls below 1e-4, and so do
        // its weights beside the paper's.
        var model = TestNets.OneConv(2, 6, 3, seed: 21, randomBias: true);
        var classifier = model.Classifier.Weight.Value.Span;
        for (int i = 0; i < classifier.Length; i++) classifier[i] *= 1e-4f;
        var explainer = TestNets.Explainer(model);
        var image = TestNets.Images(22, 1, 2, 5, 5);
        var withEpsilon = explainer.Explain(new GradCamPlusPlus(), image, CamTarget.Class(2)).ChannelWeightsOf(0).ToArray();
        var paper = explainer.Explain(new GradCamPlusPlus(epsilon: 0f), image, CamTarget.Class(2)).ChannelWeightsOf(0).ToArray();
        var c = explainer.Explain(new GradCamPlusPlus(), image, CamTarget.Class(2)).Capture;
        int z = c.Plane, positive = 0;
        for (int k = 0; k < c.Channels; k++)
        {
            double g = model.Classifier.Weight.Value[2, k] / z;
            double s = c.ActivationPlane(0, k).ToArray().Sum();
            double expected = g > 0 ? z * g * g * g / (2 * g * g + s * g * g * g + GradCamPlusPlus.PyTorchGradCamEpsilon) : 0;
            Assert.Equal(expected, withEpsilon[k], 1e-3 * Math.Abs(expected) + 1e-12);
            Assert.Equal(g > 0 ? z * g / (2 + s * g) : 0, paper[k], 1e-3 * Math.Abs(paper[k]) + 1e-9);
            if (g > 0)
            {
                positive++;
                Assert.True(withEpsilon[k] < 1e-4f * paper[k], $"channel {k}: {withEpsilon[k]} vs {paper[k]}");
            }
        }
        Assert.True(positive > 0, "no channel has a positive gradient");
    }

    [Fact]
    public void SmoothGradCamPlusPlus_WithZeroNoise_EqualsGradCamPlusPlus()
    {
        var explainer = TestNets.Explainer(TestNets.TwoConv(1, 3, 4, 3, seed: 31));
        var images = TestNets.Images(32, 2, 1, 6, 6);
        // Smooth Grad-CAM++ keeps the paper's α (no ε).
        var plain = explainer.Explain(new GradCamPlusPlus(epsilon: 0f), images, CamTarget.TopPrediction(), "features.1");
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
                Assert.Equal(ExpectedWeight(c.Activations, mean, squares, cubes, (n * c.Channels + k) * c.Plane, c.Plane, epsilon: 0),
                    result.ChannelWeightsOf(n)[k], 1e-5f);
        var again = explainer.Explain(new SmoothGradCamPlusPlus(samples, sigma, seed: 7), images, CamTarget.Class(0), "features.1");
        Assert.Equal(result.ChannelWeights, again.ChannelWeights);
    }
}
