using NanoCam.Explain.Methods;

namespace NanoCam.Explain.Tests;

/// <summary>Several methods explained from one capture (explain-dataset's one pass per target) give the maps of their own passes.</summary>
public sealed class SharedCaptureTests
{
    [Fact]
    public void MethodsExplainedFromOneCapture_GiveTheMapsOfTheirOwnPasses()
    {
        var model = TestNets.TwoConv(2, 3, 4, 3, seed: 5);
        var images = TestNets.Images(7, 4, 2, 6, 6);
        var target = CamTarget.TopPrediction(1);
        var shared = TestNets.Explainer(model);
        var capture = shared.Capture(images, "features", target, withGradients: true);
        foreach (var method in new CamMethod[] { new GradCam(), new GradCamPlusPlus(), new LayerCam(), new XGradCam(), new Cam(), new ScoreCam(batchSize: 3) })
        {
            Assert.True(method.ReadsLayerCapture, method.Name);
            var own = TestNets.Explainer(model).Explain(method, images, target, "features");
            var fromShared = shared.Explain(method, images, capture, target);
            Assert.Equal(own.Capture.TargetClasses, fromShared.Capture.TargetClasses);
            Assert.Equal(own.Normalized, fromShared.Normalized);
        }
    }

    [Fact]
    public void AMethodWithItsOwnCapture_IsRefusedASharedOne()
    {
        Assert.False(new FullGrad().ReadsLayerCapture);
        var model = TestNets.TwoConv(2, 3, 4, 3, seed: 5);
        var images = TestNets.Images(7, 2, 2, 6, 6);
        var explainer = TestNets.Explainer(model);
        var capture = explainer.Capture(images, "features", CamTarget.TopPrediction(), withGradients: true);
        Assert.Throws<ArgumentException>(() => explainer.Explain(new FullGrad(), images, capture, CamTarget.TopPrediction()));
    }

    [Fact]
    public void PerImageTarget_ExplainsEachImageForItsOwnClass()
    {
        var model = TestNets.TwoConv(2, 3, 4, 3, seed: 5);
        var images = TestNets.Images(7, 3, 2, 6, 6);
        var capture = TestNets.Explainer(model).Capture(images, "features", CamTarget.PerImage([2, 0, 1]), withGradients: true);
        Assert.Equal([2, 0, 1], capture.TargetClasses);
    }
}
