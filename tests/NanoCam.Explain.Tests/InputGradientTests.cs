using NanoCam.Explain.Methods;
using NanoCam.Nn.Models;
using NanoCam.Nn.Modules;

namespace NanoCam.Explain.Tests;

/// <summary>
/// Guided Backprop, Guided Grad-CAM and FullGrad on conv 3×3 (pad 1) → ReLU → GAP → FC, where every gradient can be
/// written by hand: Z = W * x + b, y^c = Σ_k v_k (1/P) Σ_ij ReLU(Z_kij) + β, so ∂y^c/∂ReLU(Z)_kij = v_k / P.
/// </summary>
public class InputGradientTests
{
    private const int C = 2, K = 4, H = 5, W = 5, P = H * W;

    private static GapCnn Net(int seed) => TestNets.OneConv(C, K, 3, seed, randomBias: true);

    private static Conv2d ConvOf(GapCnn model) => (Conv2d)model.Features.Children[0].Module;

    /// <summary>Z[k, i, j] = b_k + Σ_c Σ_uv W[k, c, u, v] x[c, i + u − 1, j + v − 1] (zero padding).</summary>
    private static float[] Convolve(GapCnn model, ReadOnlySpan<float> x)
    {
        var conv = ConvOf(model);
        var z = new float[K * P];
        for (int k = 0; k < K; k++)
            for (int i = 0; i < H; i++)
                for (int j = 0; j < W; j++)
                {
                    float sum = conv.Bias!.Value[k];
                    for (int c = 0; c < C; c++)
                        for (int u = 0; u < 3; u++)
                            for (int v = 0; v < 3; v++)
                            {
                                int y0 = i + u - 1, x0 = j + v - 1;
                                if (y0 >= 0 && y0 < H && x0 >= 0 && x0 < W) sum += conv.Weight.Value[k, c, u, v] * x[(c * H + y0) * W + x0];
                            }
                    z[(k * H + i) * W + j] = sum;
                }
        return z;
    }

    /// <summary>∂y/∂x[c, a, b] = Σ_k Σ_ij dZ[k, i, j] W[k, c, a − i + 1, b − j + 1] (the transposed convolution).</summary>
    private static float[] BackToInput(GapCnn model, float[] dZ)
    {
        var conv = ConvOf(model);
        var dx = new float[C * P];
        for (int k = 0; k < K; k++)
            for (int i = 0; i < H; i++)
                for (int j = 0; j < W; j++)
                    for (int c = 0; c < C; c++)
                        for (int u = 0; u < 3; u++)
                            for (int v = 0; v < 3; v++)
                            {
                                int y0 = i + u - 1, x0 = j + v - 1;
                                if (y0 >= 0 && y0 < H && x0 >= 0 && x0 < W)
                                    dx[(c * H + y0) * W + x0] += dZ[(k * H + i) * W + j] * conv.Weight.Value[k, c, u, v];
                            }
        return dx;
    }

    /// <summary>dZ = dR · [Z &gt; 0] (· [dR &gt; 0] when guided), dR_kij = v_k^c / P.</summary>
    private static float[] GradientAtConvolution(GapCnn model, float[] z, int cls, bool guided)
    {
        var dZ = new float[K * P];
        for (int k = 0; k < K; k++)
        {
            float dR = model.Classifier.Weight.Value[cls, k] / P;
            for (int p = 0; p < P; p++)
                dZ[k * P + p] = z[k * P + p] > 0 && (!guided || dR > 0) ? dR : 0f;
        }
        return dZ;
    }

    private static float[] Normalize(float[] v)
    {
        float min = v.Min(), max = v.Max();
        return v.Select(x => max > min ? (x - min) / (max - min) : 0f).ToArray();
    }

    [Fact]
    public void GuidedBackprop_OnOneConvNet_EqualsTheHandWrittenGuidedGradient()
    {
        var model = Net(201);
        var explainer = TestNets.Explainer(model);
        var image = TestNets.Images(202, 1, C, H, W);
        var result = GuidedBackprop.Explain(explainer, image, CamTarget.Class(1));
        var z = Convolve(model, image.Span);
        var expected = BackToInput(model, GradientAtConvolution(model, z, 1, guided: true));
        TestNets.AssertClose(expected, result.Of(0), 1e-5f);
        // The class has negative weights too, so the plain gradient differs: the override did something.
        var plain = BackToInput(model, GradientAtConvolution(model, z, 1, guided: false));
        Assert.True(plain.Zip(expected, (a, b) => MathF.Abs(a - b)).Max() > 1e-4f);
    }

    [Fact]
    public void Deconvnet_OnOneConvNet_PassesThePositivePartOfTheGradient_WhateverTheReluInput()
    {
        // Deconvnet's ReLU rule: dZ = dR · [dR > 0], with no [Z > 0] (Guided Backprop has both).
        var model = Net(241);
        var explainer = TestNets.Explainer(model);
        var image = TestNets.Images(242, 1, C, H, W);
        var result = new Deconvnet().Explain(explainer, image, CamTarget.Class(1));
        var dZ = new float[K * P];
        for (int k = 0; k < K; k++)
        {
            float dR = model.Classifier.Weight.Value[1, k] / P;
            for (int p = 0; p < P; p++) dZ[k * P + p] = dR > 0 ? dR : 0f;
        }
        var expected = BackToInput(model, dZ);
        TestNets.AssertClose(expected, result.Of(0), 1e-5f);
        var guided = BackToInput(model, GradientAtConvolution(model, Convolve(model, image.Span), 1, guided: true));
        Assert.True(guided.Zip(expected, (a, b) => MathF.Abs(a - b)).Max() > 1e-4f, "some ReLU inputs are negative, so guided backprop differs");
    }

    [Fact]
    public void GuidedBackprop_OnABatchOfTwo_EqualsEachImageAlone()
    {
        var explainer = TestNets.Explainer(TestNets.TwoConv(C, 3, 4, 3, seed: 211));
        var images = TestNets.Images(212, 2, C, 6, 6);
        var batch = GuidedBackprop.Explain(explainer, images, CamTarget.TopPrediction());
        Assert.Equal(2 * C * 36, batch.Values.Length);
        for (int n = 0; n < 2; n++)
        {
            var alone = GuidedBackprop.Explain(explainer, TestNets.ImageOf(images, n), CamTarget.TopPrediction());
            Assert.Equal(batch.TargetClasses[n], alone.TargetClasses[0]);
            TestNets.AssertClose(alone.Of(0), batch.Of(n), 1e-6f);
        }
    }

    [Fact]
    public void GuidedGradCam_IsGuidedGradientTimesTheNormalizedGradCamMapInEveryChannel()
    {
        var explainer = TestNets.Explainer(TestNets.TwoConv(C, 3, 4, 3, seed: 221));
        var images = TestNets.Images(222, 2, C, 6, 6);
        var result = GuidedGradCam.Explain(explainer, images, CamTarget.Class(2), "features.1");
        var gradCam = explainer.Explain(new GradCam(), images, CamTarget.Class(2), "features.1");
        var guided = GuidedBackprop.Explain(explainer, images, CamTarget.Class(2));
        for (int n = 0; n < 2; n++)
        {
            var map = gradCam.NormalizedOf(n).ToArray();
            var expected = new float[C * 36];
            for (int c = 0; c < C; c++) for (int p = 0; p < 36; p++) expected[c * 36 + p] = guided.Of(n)[c * 36 + p] * map[p];
            TestNets.AssertClose(expected, result.Values.Of(n), 1e-6f);
        }
    }

    [Fact]
    public void FullGrad_SumsNormalizedInputAndBiasGradientTerms()
    {
        var model = Net(231);
        var explainer = TestNets.Explainer(model);
        var image = TestNets.Images(232, 1, C, H, W);
        var result = explainer.Explain(new FullGrad(), image, CamTarget.Class(0));
        var x = image.ToArray();
        var z = Convolve(model, x);
        var dZ = GradientAtConvolution(model, z, 0, guided: false);
        var dx = BackToInput(model, dZ);
        var expected = new float[P];
        for (int c = 0; c < C; c++)
        {
            // ψ(|∂y/∂x ⊙ x|) for input channel c
            var term = Normalize(Enumerable.Range(0, P).Select(p => MathF.Abs(dx[c * P + p] * x[c * P + p])).ToArray());
            for (int p = 0; p < P; p++) expected[p] += term[p];
        }
        var bias = ConvOf(model).Bias!.Value.ToArray();
        for (int k = 0; k < K; k++)
        {
            // ψ(|∂y/∂Z_k · b_k|) for convolution channel k (same resolution as the input: no resampling)
            var term = Normalize(Enumerable.Range(0, P).Select(p => MathF.Abs(dZ[k * P + p] * bias[k])).ToArray());
            for (int p = 0; p < P; p++) expected[p] += term[p];
        }
        Assert.Equal(CamExplainer.InputLayer, result.Capture.Layer);
        TestNets.AssertClose(expected, result.WeightedSumOf(0), 1e-4f);
        TestNets.AssertClose(Normalize(expected), result.NormalizedOf(0), 1e-4f);
    }

    [Fact]
    public void FullGrad_ScalesEachTermAtItsOwnResolutionBeforeUpsampling_AndCountsBatchNormBiases()
    {
        // conv 3×3 stride 2 → BN → ReLU → conv 3×3 → ReLU → GAP → FC on 8×8: the bias terms live at 4×4. ψ scales each
        // term at 4×4 (ε = 1e-7) and then upsamples it, as pytorch-grad-cam; BN contributes β − μγ/√(σ² + ε).
        var rng = new Random(241);
        var features = new Sequential(new Conv2d(C, 3, 3, stride: 2, padding: 1, rng: rng), new BatchNorm2d(3), new ReLU(),
            new Conv2d(3, 3, 3, padding: 1, rng: rng), new ReLU());
        var model = new GapCnn(features, 3, 2, rng);
        TestNets.RandomizeBiases(model, 243);
        var norm = (BatchNorm2d)features.Children[1].Module;
        float[] gamma = [1.3f, 0.7f, 1.1f], beta = [0.2f, -0.3f, 0.1f], mean = [0.1f, -0.2f, 0.05f], variance = [0.8f, 1.4f, 0.6f];
        gamma.CopyTo(norm.Weight.Value.Span);
        beta.CopyTo(norm.Bias.Value.Span);
        mean.CopyTo(norm.RunningMean.Value.Span);
        variance.CopyTo(norm.RunningVar.Value.Span);
        var explainer = TestNets.Explainer(model);
        var image = TestNets.Images(242, 1, C, 8, 8);
        var result = explainer.Explain(new FullGrad(), image, CamTarget.Class(1));
        string[] layers = ["features.0", "features.1", "features.3"];
        Assert.Equal(layers, result.Capture.Additional.Select(l => l.Layer));

        var capture = explainer.CaptureAtInput(image, CamTarget.Class(1), layers);
        var biases = new float[3][];
        biases[0] = ((Conv2d)features.Children[0].Module).Bias!.Value.ToArray();
        biases[2] = ((Conv2d)features.Children[3].Module).Bias!.Value.ToArray();
        biases[1] = new float[3];
        var (conv, bn) = (capture.Additional[0], capture.Additional[1]);
        for (int k = 0; k < 3; k++)
        {
            float scale = gamma[k] / MathF.Sqrt(variance[k] + 1e-5f);
            biases[1][k] = beta[k] - mean[k] * scale;
            // Through BN in eval mode ∂y/∂Z_conv = ∂y/∂Z_bn · γ/√(σ² + ε): both layers were captured, not fused.
            for (int p = 0; p < 16; p++) Assert.Equal(bn.GradientPlane(0, k)[p] * scale, conv.GradientPlane(0, k)[p], 1e-6f);
        }
        var expected = new float[64];
        var upsampledFirst = new float[64];
        for (int c = 0; c < C; c++)
        {
            var term = Scale(Enumerable.Range(0, 64).Select(p => MathF.Abs(capture.GradientPlane(0, c)[p] * capture.ActivationPlane(0, c)[p])).ToArray());
            for (int p = 0; p < 64; p++) { expected[p] += term[p]; upsampledFirst[p] += term[p]; }
        }
        for (int l = 0; l < layers.Length; l++)
            for (int k = 0; k < 3; k++)
            {
                var term = Enumerable.Range(0, 16).Select(p => MathF.Abs(biases[l][k] * capture.Additional[l].GradientPlane(0, k)[p])).ToArray();
                var up = new float[64];
                MapOps.Upsample(Scale(term), 4, 4, up, 8, 8);
                var raw = new float[64];
                MapOps.Upsample(term, 4, 4, raw, 8, 8);
                var rescaled = Scale(raw);
                for (int p = 0; p < 64; p++) { expected[p] += up[p]; upsampledFirst[p] += rescaled[p]; }
            }
        TestNets.AssertClose(expected, result.WeightedSumOf(0), 1e-5f);
        // The order matters: scaling after upsampling (NanoCam's earlier ψ) gives another map.
        float difference = expected.Zip(upsampledFirst).Max(e => MathF.Abs(e.First - e.Second));
        Assert.True(difference > 1e-2f, $"max difference {difference}");

        static float[] Scale(float[] v)
        {
            float min = v.Min(), max = v.Max();
            return v.Select(x => (x - min) / (max - min + FullGrad.ScalingEpsilon)).ToArray();
        }
    }
}
