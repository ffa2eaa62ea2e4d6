using NanoCam.Nn.Models;
using NanoCam.Cli.Shared;
using NanoCam.Cpu.Simd;
using NanoCam.Data;
using NanoCam.Explain;

namespace NanoCam.Cli.Tests;

/// <summary>
/// <c>nanocam eval</c> streams the data set in batches that fit <see cref="Evaluation.PassMemoryBudget"/>: the batch
/// follows the budget, not the data set, and the counts do not depend on it.
/// </summary>
public sealed class StreamingEvaluationTests
{
    [Fact]
    public void Evaluation_InBatchesOfAnySize_GivesTheSameCountsAsOneBatch()
    {
        var trained = TrainedModel.Load(Path.Combine(CliHarness.Weights, "shapes-vgg.safetensors"));
        var data = new RangeDataset(new ShapesDataset(DataSpec.ShapesTestCount, DataSpec.ShapesTestSeed), 0, 45);
        using var kernels = new SimdKernels(threads: 1);
        var whole = Evaluation.Run(trained.Network, trained.Metadata, data, kernels, localization: true, batchSize: 45);
        foreach (int? batch in new int?[] { 7, null })
        {
            var streamed = Evaluation.Run(trained.Network, trained.Metadata, data, kernels, localization: true, batchSize: batch);
            Assert.Equal(whole.Correct, streamed.Correct);
            Assert.Equal(whole.Confusion, streamed.Confusion);
            Assert.Equal(whole.LocalizationHits, streamed.LocalizationHits);
            Assert.Equal(45, streamed.LocalizationExamples);
        }
    }

    [Fact]
    public void ShippedShapesModel_TakesTenImagesAPass_InTheStreamingBudget()
    {
        var trained = TrainedModel.Load(Path.Combine(CliHarness.Weights, "shapes-vgg.safetensors"));
        using var kernels = new SimdKernels(threads: 1);
        var explainer = new CamExplainer(new ModuleExplainable(trained.Network), kernels) { PassMemoryBudget = Evaluation.PassMemoryBudget };
        long perImage = explainer.ActivationBytesPerImage(3, ShapesDataset.ImageSide, ShapesDataset.ImageSide);
        int images = explainer.ImagesPerPass(3, ShapesDataset.ImageSide, ShapesDataset.ImageSide, withGradients: false);
        // The shipped VGG keeps ~3.2 MB of activations per 64×64 image: 10 images in 32 MiB (the old batch was 100, 320 MB).
        Assert.InRange(perImage, 3_000_000, 3_500_000);
        Assert.Equal(10, images);
        Assert.True(images * perImage <= Evaluation.PassMemoryBudget);
    }
}
