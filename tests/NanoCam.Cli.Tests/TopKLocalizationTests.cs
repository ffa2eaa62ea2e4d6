using System.Text.Json;
using NanoCam.Cli.Shared;
using NanoCam.Cpu.Simd;
using NanoCam.Data;
using NanoCam.Nn.Models;

namespace NanoCam.Cli.Tests;

/// <summary>
/// <c>eval --localization --topk K</c>: the CAM paper's top-K protocol (the true class among the K best, and the box of
/// its CAM at IoU ≥ 0.5), beside top-1; K = the number of classes makes top-K accuracy 100%.
/// </summary>
public sealed class TopKLocalizationTests
{
    [Theory]
    [InlineData(new[] { 0.1f, 0.9f, 0.5f, 0.3f }, 1, 1, true)]
    [InlineData(new[] { 0.1f, 0.9f, 0.5f, 0.3f }, 2, 1, false)]
    [InlineData(new[] { 0.1f, 0.9f, 0.5f, 0.3f }, 2, 2, true)]
    [InlineData(new[] { 0.1f, 0.9f, 0.5f, 0.3f }, 0, 3, false)]
    [InlineData(new[] { 0.5f, 0.5f, 0.1f }, 1, 1, false)]
    [InlineData(new[] { 0.5f, 0.5f, 0.1f }, 0, 1, true)]
    public void InTopK_CountsTheClassesScoredHigher_TiesToTheLowerIndex(float[] scores, int label, int k, bool expected) =>
        Assert.Equal(expected, Evaluation.InTopK(scores, label, k));

    [Fact]
    public void AnUntrainedNetwork_IsRightMoreOftenInTheTopK_ThanAtTop1()
    {
        // A network at its initial weights guesses: top-1 is near 1/6, top-6 is every image.
        var network = Architectures.Create("vgg", 3, 6, seed: 3);
        var metadata = new ModelMetadata
        {
            Architecture = "vgg", InputChannels = 3, InputHeight = ShapesDataset.ImageSide, InputWidth = ShapesDataset.ImageSide,
            Classes = [.. ShapesDataset.ShapeNames], Mean = [0.5f, 0.5f, 0.5f], Std = [0.25f, 0.25f, 0.25f],
        };
        var data = new ShapesDataset(60, seed: 11);
        using var kernels = new SimdKernels(threads: 1);
        var top1 = Evaluation.Run(network, metadata, data, kernels, localization: true);
        var top3 = Evaluation.Run(network, metadata, data, kernels, localization: true, topK: 3);
        var top6 = Evaluation.Run(network, metadata, data, kernels, localization: true, topK: 6);
        Assert.Equal(top1.Correct, top3.Correct);
        Assert.True(top3.TopKCorrect >= top1.Correct && top3.TopKCorrect > top1.TopKCorrect, $"top-3 {top3.TopKCorrect}, top-1 {top1.Correct}");
        Assert.Equal(60, top6.TopKCorrect);
        Assert.True(top3.TopKLocalizationHits >= top1.LocalizationHits, $"top-3 localization {top3.TopKLocalizationHits}, top-1 {top1.LocalizationHits}");
        Assert.True(top6.TopKLocalizationHits >= top3.TopKLocalizationHits);
        Assert.Equal(top1.LocalizationHits, top1.TopKLocalizationHits);
    }

    [Fact]
    public void EvalCommand_ReportsTop5_AndItsJsonKeys()
    {
        var (stdout, json, top1, top5) = EvalTop5(Path.Combine(CliHarness.Weights, "shapes-vgg.safetensors"), "shapes#0-60");
        Assert.Contains("top-5 localization accuracy", stdout);
        Assert.InRange(top5, top1, 1.0);
        Assert.Equal(1.0, json.GetProperty("top5_accuracy").GetDouble());
        var (bad, _, error) = CliHarness.Run("eval", "--model", Path.Combine(CliHarness.Weights, "shapes-vgg.safetensors"), "--topk", "7");
        Assert.Equal(1, bad);
        Assert.Equal("nanocam: error: --topk must be in 1…6 (the model has 6 classes), got 7", error.Trim());
    }

    [Fact]
    public void EvalCommand_LocalizesMnistDigits_ByTheirInkBoxes()
    {
        // MNIST ships no boxes; each digit's is the tight box of its ink (IdxDataset.GetBox), so localization runs on it.
        var (stdout, _, top1, top5) = EvalTop5(Path.Combine(CliHarness.Weights, "mnist-gapcnn.safetensors"), "idx:/work/shared/data/mnist#0-100");
        Assert.Contains("/100; CAM", stdout);
        Assert.InRange(top1, 0.0, 1.0);
        Assert.InRange(top5, top1, 1.0);
        // An imported graph without a CAM head (the shared MNIST CNN): localized with Grad-CAM against the same boxes.
        var (importedOut, _, importedTop1, importedTop5) = EvalTop5("/work/shared/data/models/mnist.onnx", "idx:/work/shared/data/mnist#0-100");
        Assert.Contains("/100; Grad-CAM", importedOut);
        Assert.InRange(importedTop5, importedTop1, 1.0);
        // Resized data: the boxes scale with the images; a model of fixed input size refuses another size.
        var (resized, _, error) = CliHarness.Run("eval", "--model", Path.Combine(CliHarness.Weights, "mnist-gapcnn.safetensors"),
            "--data", "idx:/work/shared/data/mnist#0-20@32", "--localization", "--threads", "1");
        Assert.NotEqual(0, resized);
        Assert.Contains("32", error);
    }

    /// <summary>
    /// <c>nanocam eval --localization --topk 5 --json</c> on one thread, which must succeed: its stdout, its JSON line, and
    /// the top-1 and top-5 localization accuracies read from it.
    /// </summary>
    private static (string Stdout, JsonElement Json, double Top1, double Top5) EvalTop5(string model, string data)
    {
        var (code, stdout, stderr) = CliHarness.Run("eval", "--model", model, "--data", data, "--localization", "--topk", "5", "--json", "--threads", "1");
        Assert.True(code == 0, stderr);
        using var document = CliHarness.LastLineJson(stdout);
        var json = document.RootElement.Clone();
        return (stdout, json, json.GetProperty("localization_accuracy").GetDouble(), json.GetProperty("top5_localization_accuracy").GetDouble());
    }
}
