using NanoCam.Explain.Methods;

namespace NanoCam.Explain.Tests;

/// <summary>Multi-layer fusion of any CAM method (LayerCAM Sec. 3.3) against maps fused by hand.</summary>
public class LayerFusionTests
{
    [Fact]
    public void Rescale_ScalesByTheMaximum_AndLiftsShallowMapsByTanhOfTwiceThat()
    {
        float[] map = [0f, 1f, 2f, 4f];
        var scaled = new float[4];
        LayerFusion.Rescale(map, shallow: false, scaled);
        Assert.Equal([0f, 0.25f, 0.5f, 1f], scaled);
        LayerFusion.Rescale(map, shallow: true, scaled);
        TestNets.AssertClose([0f, MathF.Tanh(0.5f), MathF.Tanh(1f), MathF.Tanh(2f)], scaled, 1e-7f);
        LayerFusion.Rescale([0f, -1f, 0f, 0f], shallow: true, scaled);
        Assert.Equal([0f, 0f, 0f, 0f], scaled);
    }

    [Theory]
    [InlineData("gradcam")]
    [InlineData("eigencam")]
    [InlineData("fem")]
    public void Explain_FusesThreeLayersOfAnyMethod_AsTheMaximumOfTheRescaledMaps(string name)
    {
        var explainer = TestNets.Explainer(TestNets.TwoConv(2, 4, 5, 3, seed: 111));
        var images = TestNets.Images(112, 2, 2, 8, 8);
        string[] layers = ["features.0", "features.1", "features"];
        var fused = LayerFusion.Explain(explainer, CamMethods.Create(name), images, CamTarget.TopPrediction(), layers);
        Assert.Equal(layers, fused.Layers.Select(result => result.Capture.Layer));
        for (int n = 0; n < 2; n++)
        {
            var maps = layers.Select(layer => explainer.Explain(CamMethods.Create(name), images, CamTarget.TopPrediction(), layer).UpsampledOf(n).ToArray()).ToArray();
            var expected = new float[64];
            Array.Fill(expected, float.NegativeInfinity);
            for (int l = 0; l < 3; l++)
            {
                float max = maps[l].Max();
                for (int p = 0; p < 64; p++)
                {
                    float m = max > 0 ? maps[l][p] / max : 0f;
                    expected[p] = MathF.Max(expected[p], l < 2 ? MathF.Tanh(2f * m) : m);
                }
            }
            TestNets.AssertClose(expected, fused.MaximumOf(n), 1e-6f);
            float lo = expected.Min(), hi = expected.Max();
            if (hi > lo) TestNets.AssertClose(expected.Select(v => (v - lo) / (hi - lo)).ToArray(), fused.FusedOf(n), 1e-5f);
            else Assert.True(fused.FlatMaps[n]);
        }
    }
}
