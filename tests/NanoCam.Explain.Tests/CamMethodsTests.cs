using NanoCam.Explain.Methods;

namespace NanoCam.Explain.Tests;

/// <summary>The registry, the random baseline, flat maps for every method, and the explanation options.</summary>
public class CamMethodsTests
{
    private static readonly string[] ExpectedNames =
    [
        "cam", "gradcam", "gradcam++", "smoothgradcam++", "xgradcam", "hirescam", "gradcam-elementwise", "layercam",
        "scorecam", "sscam", "iscam", "ablationcam", "eigencam", "eigengradcam", "fullgrad", "random", "counterfactual-gradcam",
        "kpcacam", "shapleycam", "finercam", "fem", "abn-attention",
    ];

    /// <summary>Every method that applies to a plain GAP-CNN: all but abn-attention, which needs an attention branch (AbnAttentionTests).</summary>
    private static IEnumerable<string> GapCnnMethods => CamMethods.Names.Where(name => name != "abn-attention");

    [Fact]
    public void Registry_HasExactlyTheDocumentedNames_AndEachCreatesItsMethod()
    {
        Assert.Equal(ExpectedNames, CamMethods.Names);
        foreach (var name in ExpectedNames) Assert.Equal(name, CamMethods.Create(name).Name);
    }

    [Fact]
    public void Registry_UnknownName_ThrowsListingTheValidNames()
    {
        var error = Assert.Throws<ArgumentException>(() => CamMethods.Create("gradcam+++"));
        Assert.Contains("gradcam+++", error.Message);
        foreach (var name in ExpectedNames) Assert.Contains(name, error.Message);
    }

    [Fact]
    public void RandomCam_IsDeterministicPerSeed_AndDiffersAcrossSeeds()
    {
        var explainer = TestNets.Explainer(TestNets.OneConv(1, 4, 3, seed: 241));
        var images = TestNets.Images(242, 2, 1, 6, 6);
        var first = explainer.Explain(new RandomCam(seed: 9), images, CamTarget.Class(0));
        var again = explainer.Explain(new RandomCam(seed: 9), images, CamTarget.Class(0));
        var other = explainer.Explain(new RandomCam(seed: 10), images, CamTarget.Class(0));
        Assert.Equal(first.Normalized, again.Normalized);
        Assert.NotEqual(first.ChannelWeights, other.ChannelWeights);
        Assert.All(first.ChannelWeights!, w => Assert.InRange(w, -1f, 1f));
    }

    [Fact]
    public void EveryMethod_OnAZeroInput_GivesFiniteMapsInUnitRange_AndFlatMapsWarn()
    {
        // Zero input and zero biases: every activation is 0, so every map is flat.
        var explainer = TestNets.Explainer(TestNets.OneConv(1, 3, 3, seed: 251));
        var images = Tensor.Zeros(1, 1, 6, 6);
        foreach (var name in GapCnnMethods)
        {
            var method = name switch
            {
                "smoothgradcam++" => new SmoothGradCamPlusPlus(samples: 2, sigma: 0f),
                "sscam" => new SmoothedScoreCam(samples: 2, sigma: 0f),
                _ => CamMethods.Create(name),
            };
            var result = explainer.Explain(method, images, CamTarget.Class(0));
            Assert.All(result.Normalized, v => Assert.Equal(0f, v));
            Assert.True(result.FlatMaps[0], name);
            Assert.Contains(explainer.Warnings, w => w.StartsWith(name + ":", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void EveryMethod_OnARandomBatch_GivesFiniteMapsInUnitRange()
    {
        var explainer = TestNets.Explainer(TestNets.TwoConv(1, 3, 4, 3, seed: 261));
        var images = TestNets.Images(262, 2, 1, 6, 6);
        foreach (var name in GapCnnMethods)
        {
            var result = explainer.Explain(CamMethods.Create(name), images, CamTarget.TopPrediction());
            Assert.All(result.Normalized, v => Assert.InRange(v, 0f, 1f));
            Assert.All(result.Upsampled, v => Assert.True(float.IsFinite(v), name));
        }
    }

    [Fact]
    public void RawOption_ReturnsTheUpsampledMapUnscaled()
    {
        var explainer = TestNets.Explainer(TestNets.TwoConv(1, 3, 4, 3, seed: 271));
        var images = TestNets.Images(272, 2, 1, 6, 6);
        var raw = explainer.Explain(new GradCam(), images, CamTarget.Class(0), options: new ExplainOptions(Raw: true));
        Assert.Equal(raw.Upsampled, raw.Normalized);
    }

    [Fact]
    public void AugmentFlip_AveragesTheMapWithTheMirroredImagesMapMirroredBack()
    {
        var explainer = TestNets.Explainer(TestNets.TwoConv(1, 3, 4, 3, seed: 281));
        var images = TestNets.Images(282, 2, 1, 6, 8);
        var plain = explainer.Explain(new GradCam(), images, CamTarget.Class(1));
        var mirrored = explainer.Explain(new GradCam(), MapOps.FlipHorizontal(images, explainer.Kernels), CamTarget.Class(1));
        var augmented = explainer.Explain(new GradCam(), images, CamTarget.Class(1), options: new ExplainOptions(AugmentFlip: true));
        for (int n = 0; n < 2; n++)
        {
            var expected = new float[48];
            for (int y = 0; y < 6; y++)
                for (int x = 0; x < 8; x++)
                    expected[y * 8 + x] = 0.5f * (plain.UpsampledOf(n)[y * 8 + x] + mirrored.UpsampledOf(n)[y * 8 + 7 - x]);
            TestNets.AssertClose(expected, augmented.UpsampledOf(n), 1e-6f);
            float min = expected.Min(), max = expected.Max();
            TestNets.AssertClose(expected.Select(v => (v - min) / (max - min)).ToArray(), augmented.NormalizedOf(n), 1e-5f);
        }
    }

    [Fact]
    public void EigenSmooth_ReplacesTheWeightedSumByTheTopComponentOfTheWeightedChannels()
    {
        var explainer = TestNets.Explainer(TestNets.TwoConv(1, 3, 4, 3, seed: 291));
        var images = TestNets.Images(292, 1, 1, 6, 6);
        var result = explainer.Explain(new GradCam(), images, CamTarget.Class(0), options: new ExplainOptions(EigenSmooth: true));
        var c = result.Capture;
        var weights = result.ChannelWeightsOf(0);
        var planes = new float[c.Channels * c.Plane];
        for (int k = 0; k < c.Channels; k++)
            for (int p = 0; p < c.Plane; p++) planes[k * c.Plane + p] = weights[k] * c.ActivationPlane(0, k)[p];
        var projection = new float[c.Plane];
        MapOps.PrincipalProjection(planes, c.Channels, c.Plane, new float[c.Channels], projection);
        TestNets.AssertClose(projection, result.WeightedSumOf(0), 1e-6f);
        Assert.Empty(explainer.Warnings);
    }
}

/// <summary>The extra passes (masked batches, ablation hooks, guided rules) behave the same on the SIMD backend.</summary>
public class BackendAgreementTests
{
    [Fact]
    public void ScoreAblationAndGuidedBackprop_OnSimdKernels_MatchTheNaiveReference()
    {
        var model = TestNets.TwoConv(1, 3, 4, 3, seed: 301);
        var images = TestNets.Images(302, 2, 1, 6, 6);
        var naive = TestNets.Explainer(model);
        var simd = new CamExplainer(new ModuleExplainable(model), new NanoCam.Cpu.Simd.SimdKernels(2));
        foreach (var name in new[] { "scorecam", "ablationcam", "fullgrad", "gradcam++" })
            TestNets.AssertClose(naive.Explain(CamMethods.Create(name), images, CamTarget.Class(1)).WeightedSum,
                simd.Explain(CamMethods.Create(name), images, CamTarget.Class(1)).WeightedSum, 1e-4f);
        TestNets.AssertClose(GuidedBackprop.Explain(naive, images, CamTarget.Class(1)).Values,
            GuidedBackprop.Explain(simd, images, CamTarget.Class(1)).Values, 1e-4f);
    }
}
