using NanoCam.Explain.Methods;

namespace NanoCam.Explain.Tests;

/// <summary>The explainer rewinds and reuses one tape: a pass must not see anything of the pass before it.</summary>
public sealed class ExplainerReuseTests
{
    [Fact]
    public void RepeatedExplanations_OfOtherBatchSizesAndMethodsInBetween_GiveTheSameMaps()
    {
        var model = TestNets.TwoConv(2, 3, 4, 3, seed: 11);
        var images = TestNets.Images(12, 2, 2, 6, 6);
        var fresh = TestNets.Explainer(model).Explain(new GradCam(), images, CamTarget.TopPrediction(), "features.1");

        var reused = TestNets.Explainer(model);
        reused.Explain(new GradCamPlusPlus(), TestNets.ImageOf(images, 1), CamTarget.Class(2), "features.1");
        reused.Explain(new ScoreCam(batchSize: 3), images, CamTarget.TopPrediction(), "features.3");
        var guided = GuidedBackprop.Explain(reused, images, CamTarget.TopPrediction());
        reused.Explain(new AblationCam(batchSize: 3), images, CamTarget.Class(1), "features.1");
        var guidedAgain = GuidedBackprop.Explain(reused, images, CamTarget.TopPrediction());
        Assert.Equal(GuidedBackprop.Explain(TestNets.Explainer(model), images, CamTarget.TopPrediction()).Values, guidedAgain.Values);
        Assert.Equal(guided.Values, guidedAgain.Values);
        reused.Explain(new Cam(), images, CamTarget.TopPrediction());
        var again = reused.Explain(new GradCam(), images, CamTarget.TopPrediction(), "features.1");

        Assert.Equal(fresh.Capture.Activations, again.Capture.Activations);
        Assert.Equal(fresh.Capture.Gradients, again.Capture.Gradients);
        Assert.Equal(fresh.Normalized, again.Normalized);
    }
}
