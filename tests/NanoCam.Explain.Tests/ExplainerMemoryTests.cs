using NanoCam.Explain.Methods;
using NanoCam.Explain.Metrics;
using NanoCam.Nn.Models;
using Xunit.Abstractions;

namespace NanoCam.Explain.Tests;

/// <summary>Tests that read the whole process's managed heap: they run alone, after the parallel ones.</summary>
[CollectionDefinition(nameof(ManagedHeapCollection), DisableParallelization = true)]
public sealed class ManagedHeapCollection;

/// <summary>
/// The explainer's memory follows its budget, not the batch: a pass takes at most as many images as fit
/// <see cref="CamExplainer.PassMemoryBudget"/> (half as many with gradients down to the input), larger batches run in
/// chunks with the same results, and what the explainer keeps between calls stays within a few passes' worth however
/// the batch sizes vary.
/// </summary>
[Collection(nameof(ManagedHeapCollection))]
public sealed class ExplainerMemoryTests(ITestOutputHelper output)
{
    private const int Channels = 3, Side = 32, Classes = 4;

    // conv 3→16, ReLU, conv 16→16, ReLU at 32×32: four 64 KiB planes of activations per image.
    private static readonly GapCnn Model = TestNets.TwoConv(Channels, 16, 16, Classes, seed: 3);

    private static CamExplainer Explainer(int budgetImages)
    {
        var explainer = TestNets.Explainer(Model);
        explainer.PassMemoryBudget = budgetImages * explainer.ActivationBytesPerImage(Channels, Side, Side);
        return explainer;
    }

    [Fact]
    public void ImagesPerPass_IsTheBudgetOverOneImagesActivations_HalvedWithGradients()
    {
        var explainer = TestNets.Explainer(Model);
        long perImage = explainer.ActivationBytesPerImage(Channels, Side, Side);
        // conv, ReLU, conv, ReLU: 4 × 16 × 32 × 32 floats; GAP and FC add 16 + 2·4 floats.
        Assert.Equal((4L * 16 * Side * Side + 16 + 2 * Classes) * sizeof(float), perImage);
        explainer.PassMemoryBudget = 6 * perImage + perImage / 2;
        Assert.Equal(6, explainer.ImagesPerPass(Channels, Side, Side, withGradients: false));
        Assert.Equal(3, explainer.ImagesPerPass(Channels, Side, Side, withGradients: true));
        explainer.PassMemoryBudget = 1;
        Assert.Equal(1, explainer.ImagesPerPass(Channels, Side, Side, withGradients: true));
    }

    [Fact]
    public void ABatchLargerThanTheBudget_RunsInChunks_WithTheSameResults()
    {
        var images = TestNets.Images(5, 11, Channels, Side, Side);
        var whole = Explainer(budgetImages: 100);
        var chunked = Explainer(budgetImages: 4);   // 4 images per pass, 2 with gradients
        foreach (var method in new CamMethod[] { new GradCam(), new Cam(), new ScoreCam(batchSize: 64) })
        {
            string? layer = method is Cam ? null : "features.1";
            var expected = whole.Explain(method, images, CamTarget.TopPrediction(), layer);
            var actual = chunked.Explain(method, images, CamTarget.TopPrediction(), layer);
            Assert.Equal(expected.Capture.Scores, actual.Capture.Scores);
            Assert.Equal(expected.Capture.Gradients, actual.Capture.Gradients);
            Assert.Equal(expected.Normalized, actual.Normalized);
        }
        Assert.Equal(GuidedBackprop.Explain(whole, images, CamTarget.Class(1)).Values,
            GuidedBackprop.Explain(chunked, images, CamTarget.Class(1)).Values);
        Assert.Equal(whole.ScoresOf(images), chunked.ScoresOf(images));
    }

    /// <summary>
    /// Explanations and metric passes of batches of 1 to 48 images on one explainer with a budget of 4 images. Each of
    /// its two tapes (plain passes, configured passes) holds at most its largest pass and as much again in buffers kept
    /// for a batch size that comes back; a pass is at most the budget. Before the budget the tapes grew with the batch
    /// (here 48 images, 12 budgets) and every change of batch size left a tape's worth of buffers for the collector.
    /// </summary>
    [Fact]
    public void ExplainingBatchesOfVaryingSizes_KeepsTheHeapWithinFourPassesOfTheBudget()
    {
        var explainer = Explainer(budgetImages: 4);
        var classifier = new ModelClassifier(explainer, Channels, Side, Side);
        var single = TestNets.Images(1, 1, Channels, Side, Side);
        explainer.Explain(new GradCam(), single, CamTarget.TopPrediction());   // compiles the paths before measuring
        long before = GC.GetTotalMemory(forceFullCollection: true);
        foreach (int batch in new[] { 48, 7, 30, 1, 19, 3 })
        {
            var images = TestNets.Images(batch, batch, Channels, Side, Side);
            explainer.Explain(new GradCam(), images, CamTarget.TopPrediction(), "features.1");
            explainer.Explain(new Cam(), images, CamTarget.TopPrediction());
            GuidedBackprop.Explain(explainer, images, CamTarget.TopPrediction());
            explainer.ScoresOf(images);
            var host = images.ToArray();
            classifier.Probabilities(2 * batch + 3, (i, image) => host.AsSpan(i % batch * image.Length, image.Length).CopyTo(image));
        }
        explainer.Explain(new ScoreCam(batchSize: 32), TestNets.Images(9, 3, Channels, Side, Side), CamTarget.TopPrediction());
        long kept = GC.GetTotalMemory(forceFullCollection: true) - before;
        long budget = explainer.PassMemoryBudget;
        output.WriteLine($"kept {kept / 1024.0:F0} KiB with a budget of {budget / 1024.0:F0} KiB per pass ({kept / (double)budget:F2} budgets)");
        Assert.True(kept <= 4 * budget + (256 << 10), $"the explainer kept {kept} bytes, {kept / (double)budget:F2} times its budget of {budget}");
        GC.KeepAlive(explainer);
    }
}
