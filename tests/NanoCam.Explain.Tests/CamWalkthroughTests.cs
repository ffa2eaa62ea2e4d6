using NanoCam.Autodiff;
using NanoCam.Cpu.Naive;
using NanoCam.Nn.Models;
using NanoCam.Nn.Training;

namespace NanoCam.Explain.Tests;

/// <summary>The walk-through record checked against recomputation by plain loops from A, the model's own weights and an independent forward pass.</summary>
public class CamWalkthroughTests
{
    private static (GapCnn Model, CamExplainer Explainer, Tensor Image) Setup(int seed)
    {
        var model = TestNets.TwoConv(inputChannels: 2, hidden: 5, channels: 6, classes: 4, seed);
        return (model, TestNets.Explainer(model), TestNets.Images(seed + 10, 1, 2, 8, 8));
    }

    [Theory]
    [InlineData("cam")]
    [InlineData("gradcam")]
    public void WeightedSumAndRelu_MatchPlainLoopsOverActivationsAndWeights(string method)
    {
        var (_, explainer, image) = Setup(3);
        var walk = CamWalkthrough.Run(explainer, image, method, CamTarget.Class(1));
        Assert.Equal(6, walk.Channels);
        Assert.Equal(64, walk.Z);
        for (int p = 0; p < walk.Z; p++)
        {
            double sum = 0;
            for (int k = 0; k < walk.Channels; k++) sum += walk.Weights[k] * walk.Activation(k)[p];
            Assert.Equal(sum, walk.WeightedSum[p], 1e-5);
            Assert.Equal(Math.Max(sum, 0), walk.Map[p], 1e-5);
        }
        Assert.Contains(walk.WeightedSum.ToArray(), v => v < 0); // so the ReLU check above tests something
    }

    [Fact]
    public void Cam_WeightsAreTheClassifierRow_AndGradCamWeightsAreThoseOverZ()
    {
        var (model, explainer, image) = Setup(4);
        var cam = CamWalkthrough.Run(explainer, image, "cam", CamTarget.Class(2));
        var gradCam = CamWalkthrough.Run(explainer, image, "gradcam", CamTarget.Class(2));
        var fc = model.Classifier.Weight.Value.ToArray(); // [classes, K]
        for (int k = 0; k < 6; k++)
        {
            Assert.Equal(fc[2 * 6 + k], cam.Weights[k]);
            // α_k^c = (1/Z) Σ_ij w_k^c/Z·Z … = w_k^c / Z on a GAP → linear head.
            Assert.Equal(fc[2 * 6 + k] / 64f, gradCam.Weights[k], 1e-6f);
        }
        var comparison = gradCam.Comparison!;
        Assert.Equal(64, comparison.Z);
        Assert.Equal(1.0 / 64, comparison.ExpectedRatio);
        Assert.Equal(1.0 / 64, comparison.MapRatio, 1e-6);
        Assert.Equal(1.0 / 64, comparison.MinChannelRatio, 1e-6);
        Assert.Equal(1.0 / 64, comparison.MaxChannelRatio, 1e-6);
    }

    [Fact]
    public void ScoreDecomposition_RebuildsTheLogitOfAnIndependentForwardPass()
    {
        var (model, explainer, image) = Setup(5);
        var walk = CamWalkthrough.Run(explainer, image, "cam", CamTarget.Class(3));
        var score = walk.Score!;
        var fc = model.Classifier.Weight.Value.ToArray();
        var bias = model.Classifier.Bias!.Value.ToArray();
        double logit = bias[3];
        for (int k = 0; k < 6; k++)
        {
            double pooled = 0;
            foreach (var a in walk.Activation(k)) pooled += a;
            pooled /= walk.Z; // F^k
            Assert.Equal(pooled, score.PooledFeatures[k], 1e-6);
            Assert.Equal(fc[3 * 6 + k] * pooled, score.Contributions[k], 1e-6);
            logit += fc[3 * 6 + k] * pooled;
        }
        var network = explainer.ScoresOf(image)[3];
        Assert.NotEqual(0f, bias[3]);
        Assert.Equal(bias[3], score.Bias);
        Assert.Equal(network, score.NetworkScore);
        Assert.Equal(network, walk.NetworkScore);
        Assert.True(Math.Abs(logit - network) <= 1e-4 * Math.Abs(network), $"loops {logit} vs network {network}");
        Assert.True(score.RelativeError <= 1e-4, $"recomputed {score.Recomputed} vs network {score.NetworkScore}");
    }

    [Fact]
    public void UpsampledAndNormalizedMaps_KeepTheCornersAndSpanZeroToOne()
    {
        // gapcnn: two 2×2 max pools, so a 12×12 input gives a 3×3 map, upsampled ×4.
        var model = Architectures.Create("gapcnn", 1, 4, seed: 3);
        var walk = CamWalkthrough.Run(TestNets.Explainer(model), TestNets.Images(11, 1, 1, 12, 12), "cam", CamTarget.Class(1));
        Assert.Equal((3, 3, 12), (walk.Height, walk.Width, walk.Result.InputWidth));
        // Half-pixel centres clamp at the border, so each corner of the upsampled map is the corner of the raw map.
        Assert.Equal(walk.Map[0], walk.Upsampled[0]);
        Assert.Equal(walk.Map[2], walk.Upsampled[11]);
        Assert.Equal(walk.Map[6], walk.Upsampled[11 * 12]);
        Assert.Equal(walk.Map[8], walk.Upsampled[143]);
        // Position (4, 4) reads the map at (4 + ½)·3/12 − ½ = 0.625 in both directions: bilinear by hand.
        float top = walk.Map[0] * 0.375f + walk.Map[1] * 0.625f, bottom = walk.Map[3] * 0.375f + walk.Map[4] * 0.625f;
        Assert.Equal(top * 0.375f + bottom * 0.625f, walk.Upsampled[4 * 12 + 4], 1e-5f);
        var (min, max) = (walk.Upsampled.ToArray().Min(), walk.Upsampled.ToArray().Max());
        Assert.True(max > min);
        for (int p = 0; p < 144; p++) Assert.Equal((walk.Upsampled[p] - min) / (max - min), walk.Normalized[p], 1e-6f);
    }

    [Fact]
    public void LayerThatDoesNotFeedTheHead_HasNoScoreOrComparison_AndCamIsRefused()
    {
        var (_, explainer, image) = Setup(7);
        var walk = CamWalkthrough.Run(explainer, image, "gradcam", CamTarget.Class(0), layer: "features.1");
        Assert.Null(walk.Score);
        Assert.Null(walk.Comparison);
        Assert.Equal(5, walk.Channels);
        var cam = Assert.Throws<InvalidOperationException>(() => CamWalkthrough.Run(explainer, image, "cam", CamTarget.Class(0), layer: "features.1"));
        Assert.Contains("features.1", cam.Message);
    }

    [Fact]
    public void OtherMethodsAndBatches_AreRefused()
    {
        var (_, explainer, image) = Setup(8);
        Assert.Contains("cam or gradcam", Assert.Throws<ArgumentException>(() => CamWalkthrough.Run(explainer, image, "gradcam++")).Message);
        var two = TestNets.Images(1, 2, 2, 8, 8);
        Assert.Contains("one image", Assert.Throws<ArgumentException>(() => CamWalkthrough.Run(explainer, two, "cam")).Message);
    }

    [Fact]
    public void ChannelsByWeight_IsSortedLargestFirst()
    {
        var (_, explainer, image) = Setup(9);
        var walk = CamWalkthrough.Run(explainer, image, "cam");
        var order = walk.ChannelsByWeight();
        Assert.Equal(Enumerable.Range(0, 6), order.Order());
        for (int i = 1; i < order.Length; i++) Assert.True(walk.Weights[order[i - 1]] >= walk.Weights[order[i]]);
    }

    /// <summary>Worked by hand: ReLU([2, 2, −1, 0]) normalised is [½, ½, 0, 0], H = ln 2; a flat map of Z cells gives ln Z; one cell gives 0.</summary>
    [Fact]
    public void FosteringEntropy_OfSmallMaps_IsWorkedByHand()
    {
        // ε = 1e-6 inside the logarithm moves each value by at most Z·ε.
        Assert.Equal(Math.Log(2), CamWalkthrough.FosteringEntropyOf([2f, 2f, -1f, 0f]), 1e-5);
        Assert.Equal(Math.Log(16), CamWalkthrough.FosteringEntropyOf(Enumerable.Repeat(0.3f, 16).ToArray()), 2e-5);
        Assert.Equal(0, CamWalkthrough.FosteringEntropyOf([0f, 5f, -2f, 0f]), 1e-5);
        Assert.Equal(0, CamWalkthrough.FosteringEntropyOf([-1f, -2f]), 9); // no positive mass: p = 0 everywhere
    }

    /// <summary>The page's H is the training term: CamFostering.MeanEntropy (tape ops) on a batch of one, for the class explained.</summary>
    [Fact]
    public void FosteringEntropy_IsTheTrainingTermOfTheExplainedClass()
    {
        var (model, explainer, image) = Setup(6);
        var walk = CamWalkthrough.Run(explainer, image, "gradcam", CamTarget.Class(3));
        var tape = new Tape(NaiveKernels.Instance) { GradEnabled = false };
        model.Call(tape, image);
        float term = new CamFostering(model, 1f).MeanEntropy(tape, Tensor.FromArray([3f], 1)).ToArray()[0];
        Assert.True(term > 0.1f, $"a degenerate map: H = {term}");
        Assert.Equal(term, walk.FosteringEntropy, 4);
    }

    /// <summary>On an Attention Branch Network the record carries M(x), the published attention map; elsewhere none.</summary>
    [Fact]
    public void AttentionBranchNetwork_WalkthroughCarriesItsAttentionMap()
    {
        var abn = (AttentionBranchNetwork)Architectures.Create("abn-vgg", 3, 6, seed: 1);
        var image = TestNets.Images(5, 1, 3, 16, 16);
        var walk = CamWalkthrough.Run(TestNets.Explainer(abn), image, "cam");
        var tape = new Tape(NaiveKernels.Instance) { GradEnabled = false };
        var m = abn.Branches(tape, image).Map.ToArray();
        Assert.NotNull(walk.Attention);
        Assert.Equal(AttentionBranchNetwork.AttentionMapLayer, walk.Attention!.Capture.Layer);
        Assert.Equal(m, walk.Attention.Capture.Activations);
        Assert.Null(CamWalkthrough.Run(Setup(2).Explainer, Setup(2).Image, "cam").Attention);
    }
}
