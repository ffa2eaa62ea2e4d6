using NanoCam.Autodiff;
using NanoCam.Cpu.Naive;
using NanoCam.Explain.Methods;
using NanoCam.Nn.Models;

namespace NanoCam.Explain.Tests;

/// <summary>abn-attention, CAM and Grad-CAM on an Attention Branch Network; abn-attention refused elsewhere.</summary>
public sealed class AbnAttentionTests
{
    private static AttentionBranchNetwork Abn(string arch = "abn-vgg") => (AttentionBranchNetwork)Architectures.Create(arch, 3, 6, seed: 1);

    private static AttentionBranchOutputs Pass(AttentionBranchNetwork model, Tensor input, out Tape tape)
    {
        tape = new Tape(NaiveKernels.Instance) { GradEnabled = false };
        return model.Branches(tape, input);
    }

    [Theory]
    [InlineData("abn-vgg", 16)]
    [InlineData("abn-resnet", 18)]
    public void AbnAttention_GivesTheAttentionMapItself_UpsampledToTheInput_InZeroOne(string arch, int side)
    {
        var model = Abn(arch);
        var input = TestNets.Images(31, 2, 3, side, side);
        var m = Pass(model, input, out _).Map.ToArray();
        var explainer = TestNets.Explainer(model);
        var result = explainer.Explain(new AbnAttention(), input, CamTarget.TopPrediction(), options: new ExplainOptions(Raw: true));
        Assert.Equal(AttentionBranchNetwork.AttentionMapLayer, result.Capture.Layer);
        Assert.Equal(m, result.Map); // one channel of weight 1, and M > 0 passes ReLU unchanged
        Assert.Equal(2 * side * side, result.Upsampled.Length);
        int plane = m.Length / 2;
        for (int n = 0; n < 2; n++)
        {
            // Bilinear upsampling stays within the range of the values it interpolates, which lie in (0, 1).
            var mapOfImage = m.AsSpan(n * plane, plane).ToArray();
            float low = mapOfImage.Min(), high = mapOfImage.Max();
            Assert.True(low > 0f && high < 1f && high > low, $"M of image {n} spans [{low}, {high}]");
            Assert.All(result.UpsampledOf(n).ToArray(), v => Assert.InRange(v, low - 1e-6f, high + 1e-6f));
        }
        var normalized = explainer.Explain(new AbnAttention(), input, CamTarget.TopPrediction());
        Assert.All(normalized.Normalized, v => Assert.InRange(v, 0f, 1f));
        Assert.Equal("abn-attention", CamMethods.Create("abn-attention").Name);
    }

    [Fact]
    public void AbnAttention_IsTheSameMapForEveryClass()
    {
        var model = Abn();
        var input = TestNets.Images(32, 1, 3, 12, 12);
        var explainer = TestNets.Explainer(model);
        var first = explainer.Explain(new AbnAttention(), input, CamTarget.Class(0)).Upsampled;
        Assert.Equal(first, explainer.Explain(new AbnAttention(), input, CamTarget.Class(5)).Upsampled);
    }

    [Fact]
    public void AbnAttention_OnANetworkWithoutAnAttentionBranch_SaysWhyItDoesNotApply()
    {
        var plain = TestNets.Explainer(TestNets.OneConv(1, 3, 2, seed: 33));
        const string reason = "this network has no attention branch (train one with --arch abn-vgg or abn-resnet)";
        Assert.Equal(reason, new AbnAttention().WhyNotApplicable(plain.Model, "features"));
        Assert.Null(new AbnAttention().DefaultLayer(plain.Model));
        var refused = Assert.Throws<InvalidOperationException>(() => plain.Explain(new AbnAttention(), TestNets.Images(34, 1, 1, 6, 6), CamTarget.Class(0)));
        Assert.Equal($"abn-attention: {reason}", refused.Message);

        var abn = TestNets.Explainer(Abn());
        Assert.Equal("the attention map is layer 'attention.map', not 'features'", new AbnAttention().WhyNotApplicable(abn.Model, "features"));
        Assert.Null(new AbnAttention().WhyNotApplicable(abn.Model, "attention.map"));
    }

    [Fact]
    public void Cam_OnAnAbn_ReadsThePerceptionBranchsHead_ByADirectLoop()
    {
        var model = Abn();
        var input = TestNets.Images(35, 2, 3, 12, 12);
        Pass(model, input, out var tape);
        var features = tape.Find(GapCnn.FeatureLayer);
        var (a, w) = (features.ToArray(), model.Classifier.Weight.Value.ToArray());
        int channels = features.Shape[1], plane = features.Shape[2] * features.Shape[3];
        var explainer = TestNets.Explainer(model);
        Assert.Equal(GapCnn.FeatureLayer, explainer.LayerFor(new Cam(), null));
        var result = explainer.Explain(new Cam(), input, CamTarget.Class(4));
        var expected = new float[2 * plane];
        for (int n = 0; n < 2; n++)
        for (int k = 0; k < channels; k++)
        for (int p = 0; p < plane; p++)
            expected[n * plane + p] += w[4 * channels + k] * a[(n * channels + k) * plane + p]; // CAM eq. 3, w = the perception FC
        TestNets.AssertClose(expected, result.WeightedSum, 1e-4f);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(AttentionBranchNetwork.ExtractorLayer)]
    [InlineData(AttentionBranchNetwork.GatedLayer)]
    public void GradCam_OnAnAbn_GivesFiniteMapsOfTheInputsSize_AtThePerceptionAndSharedLayers(string? layer)
    {
        var model = Abn("abn-resnet");
        var input = TestNets.Images(36, 2, 3, 12, 12);
        var result = TestNets.Explainer(model).Explain(new GradCam(), input, CamTarget.TopPrediction(), layer);
        Assert.Equal(layer ?? GapCnn.FeatureLayer, result.Capture.Layer);
        Assert.Equal(2 * 12 * 12, result.Normalized.Length);
        Assert.All(result.Normalized, v => Assert.InRange(v, 0f, 1f));
        Assert.Contains(result.Capture.Gradients!, g => g != 0f);
    }
}
