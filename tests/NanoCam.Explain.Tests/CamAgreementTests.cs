using NanoCam.Cpu.Naive;
using NanoCam.Explain;
using NanoCam.Explain.Methods;
using NanoCam.Nn.Models;

namespace NanoCam.Explain.Tests;

public class CamAgreementTests
{
    private static Tensor RandomImages(int seed, params int[] dims)
    {
        var rng = new Random(seed);
        var t = Tensor.Zeros(dims);
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = (float)rng.NextDouble();
        return t;
    }

    [Fact]
    public void OnGapNetwork_GradCamEqualsCamDividedByZ()
    {
        // y^c = Σ_k w_k^c (1/Z) Σ_ij A^k_ij + b_c, so ∂y^c/∂A^k_ij = w_k^c / Z and α_k^c = w_k^c / Z (CAM ⇔ Grad-CAM).
        var model = Architectures.Create("gapcnn", 1, 4, seed: 3);
        var explainer = new CamExplainer(new ModuleExplainable(model), new NaiveKernels());
        var images = RandomImages(5, 2, 1, 12, 12);
        var target = CamTarget.Class(2);

        var cam = explainer.Explain(new Cam(), images, target);
        var gradCam = explainer.Explain(new GradCam(), images, target);

        int z = cam.Capture.Plane;
        Assert.Equal(9, z); // 12 → 6 → 3 after two 2×2 max pools
        for (int i = 0; i < cam.WeightedSum.Length; i++)
            Assert.Equal(cam.WeightedSum[i] / z, gradCam.WeightedSum[i], 1e-5f);
        for (int i = 0; i < cam.Normalized.Length; i++)
            Assert.Equal(cam.Normalized[i], gradCam.Normalized[i], 1e-4f);
        for (int k = 0; k < model.FeatureChannels; k++)
            Assert.Equal(model.Classifier.Weight.Value[2, k] / z, gradCam.ChannelWeightsOf(1)[k], 1e-6f);
    }

    [Fact]
    public void CounterfactualGradCam_IsGradCamWithNegatedWeights()
    {
        var model = Architectures.Create("gapcnn", 1, 3, seed: 4);
        var explainer = new CamExplainer(new ModuleExplainable(model), new NaiveKernels());
        var images = RandomImages(6, 1, 1, 8, 8);
        var gradCam = explainer.Explain(new GradCam(), images, CamTarget.Class(1));
        var counterfactual = explainer.Explain(new CounterfactualGradCam(), images, CamTarget.Class(1));
        for (int k = 0; k < gradCam.Capture.Channels; k++)
            Assert.Equal(-gradCam.ChannelWeightsOf(0)[k], counterfactual.ChannelWeightsOf(0)[k], 1e-7f);
        for (int i = 0; i < gradCam.WeightedSum.Length; i++)
        {
            Assert.Equal(-gradCam.WeightedSum[i], counterfactual.WeightedSum[i], 1e-6f);
            Assert.Equal(MathF.Max(-gradCam.WeightedSum[i], 0f), counterfactual.Map[i], 1e-6f);
        }
    }

    [Fact]
    public void TopPredictionTarget_PicksTheArgmaxOfTheScores()
    {
        var model = Architectures.Create("gapcnn", 1, 5, seed: 8);
        var explainer = new CamExplainer(new ModuleExplainable(model), new NaiveKernels());
        var images = RandomImages(9, 3, 1, 8, 8);
        var result = explainer.Explain(new Cam(), images, CamTarget.TopPrediction());
        for (int n = 0; n < 3; n++)
        {
            var scores = result.Capture.ScoresOf(n).ToArray();
            Assert.Equal(Array.IndexOf(scores, scores.Max()), result.Capture.TargetClasses[n]);
        }
    }

    [Fact]
    public void UnknownOrNonSpatialLayer_IsRejectedWithItsName()
    {
        var model = Architectures.Create("gapcnn", 1, 3, seed: 1);
        var explainer = new CamExplainer(new ModuleExplainable(model), new NaiveKernels());
        var images = RandomImages(1, 1, 1, 8, 8);
        var unknown = Assert.Throws<ArgumentException>(() => explainer.Explain(new GradCam(), images, CamTarget.Class(0), "features.99"));
        Assert.Contains("features.99", unknown.Message);
        var flat = Assert.Throws<ArgumentException>(() => explainer.Explain(new GradCam(), images, CamTarget.Class(0), "gap"));
        Assert.Contains("not spatial", flat.Message);
        var badClass = Assert.Throws<ArgumentException>(() => explainer.Explain(new GradCam(), images, CamTarget.Class(7)));
        Assert.Contains("class 7", badClass.Message);
    }

    [Fact]
    public void FlatMap_GivesZerosAndAWarning_NeverNaN()
    {
        var model = Architectures.Create("gapcnn", 1, 3, seed: 1);
        var explainer = new CamExplainer(new ModuleExplainable(model), new NaiveKernels());
        var images = Tensor.Zeros(1, 1, 8, 8); // zero input, zero biases: every activation is 0
        var result = explainer.Explain(new Cam(), images, CamTarget.Class(0));
        Assert.True(result.FlatMaps[0]);
        Assert.All(result.Normalized, v => Assert.Equal(0f, v));
        Assert.Single(explainer.Warnings);
    }

    [Fact]
    public void BilinearUpsampling_MatchesAHandComputedCase()
    {
        // 2×2 → 4×4 with half-pixel centres: output x samples source at (x + ½)/2 − ½ ∈ {−¼→0, ¼, ¾, 1¼→1}.
        float[] source = [0f, 4f, 8f, 12f];
        var output = new float[16];
        MapOps.Upsample(source, 2, 2, output, 4, 4);
        float[] row0 = [0f, 1f, 3f, 4f];
        Assert.Equal(row0, output[..4]);
        float[] row1 = [2f, 3f, 5f, 6f]; // ¼ of the way to the second row (+8·¼ = 2)
        Assert.Equal(row1, output[4..8]);
    }

    [Fact]
    public void BilinearUpsamplingWithAlignedCorners_MatchesAHandComputedCase()
    {
        // 2×2 → 4×4 with align_corners = true: output x samples source at x·(2 − 1)/(4 − 1) = 0, ⅓, ⅔, 1.
        float[] source = [0f, 3f, 6f, 9f];
        var output = new float[16];
        MapOps.UpsampleAlignCorners(source, 2, 2, output, 4, 4);
        float[] row0 = [0f, 1f, 2f, 3f];
        Assert.Equal(row0, output[..4]);
        float[] row1 = [2f, 3f, 4f, 5f]; // ⅓ of the way to the second row (+6·⅓ = 2)
        TestNets.AssertClose(row1, output[4..8], 1e-6f);
        float[] row3 = [6f, 7f, 8f, 9f];
        TestNets.AssertClose(row3, output[12..], 1e-6f);
    }
}

public class LocalizationTests
{
    [Fact]
    public void BoxFromMap_KeepsTheLargestComponentAboveTwentyPercentOfTheMax()
    {
        // 6×6 map: a 2×3 blob (values 1.0) at rows 1–2, columns 1–3, and a single bright pixel far away (0.9)
        // that is above 20% but smaller; a 0.1 speck below the threshold.
        var map = new float[36];
        for (int y = 1; y <= 2; y++) for (int x = 1; x <= 3; x++) map[y * 6 + x] = 1f;
        map[5 * 6 + 5] = 0.9f;
        map[0] = 0.1f;
        var box = NanoCam.Explain.Metrics.Localization.BoxFromMap(map, 6, 6);
        Assert.Equal(new NanoCam.Explain.Metrics.Box(1, 1, 4, 3), box);
    }

    [Fact]
    public void IoU_OfHandCase()
    {
        var a = new NanoCam.Explain.Metrics.Box(0, 0, 4, 4);
        var b = new NanoCam.Explain.Metrics.Box(2, 2, 6, 6);
        Assert.Equal(4.0 / 28.0, a.IoU(b), 12);
        Assert.True(NanoCam.Explain.Metrics.Localization.IsHit(3, 3, a, a));
        Assert.False(NanoCam.Explain.Metrics.Localization.IsHit(3, 3, a, b));
    }
}
