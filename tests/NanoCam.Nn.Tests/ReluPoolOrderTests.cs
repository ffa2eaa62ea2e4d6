using NanoCam.Autodiff;
using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;
using NanoCam.Nn.Models;
using NanoCam.Ops;

namespace NanoCam.Nn.Tests;

/// <summary>
/// A training pass runs "ReLU, max pool" as "max pool, ReLU" (Sequential.PoolsFirst). Checked against the written order,
/// which the same pass takes when the ReLU's output is kept: the logits, the loss and every parameter gradient must be
/// identical, and only the kept pass publishes the ReLU's output.
/// </summary>
public class ReluPoolOrderTests
{
    public static TheoryData<string, int> Cases => new() { { "gapcnn", 1 }, { "gapcnn", 2 }, { "vgg", 3 } };

    [Theory]
    [MemberData(nameof(Cases))]
    public void PoolFirst_GivesTheSameLogitsAndGradientsAsTheWrittenOrder(string architecture, int channels)
    {
        var rng = new Random(3);
        int size = architecture == "vgg" ? 20 : 28;
        var images = Tensor.Zeros(4, channels, size, size);
        for (int i = 0; i < images.Size; i++) images.Span[i] = (float)rng.NextDouble() * 2 - 1;
        var labels = Tensor.FromArray([0f, 1f, 2f, 1f], 4);
        foreach (IKernels kernels in new IKernels[] { NaiveKernels.Instance, new SimdKernels(threads: 2) })
        {
            var reordered = Pass(kernels, architecture, channels, images, labels, keepReluOutputs: false);
            var written = Pass(kernels, architecture, channels, images, labels, keepReluOutputs: true);
            Assert.Equal(written.Logits, reordered.Logits);
            Assert.Equal(written.Gradients, reordered.Gradients);
            Assert.True(written.PublishedReluBeforePool);
            Assert.False(reordered.PublishedReluBeforePool);
        }
    }

    private static (float[] Logits, float[] Gradients, bool PublishedReluBeforePool) Pass(
        IKernels kernels, string architecture, int channels, Tensor images, Tensor labels, bool keepReluOutputs)
    {
        var model = Architectures.Create(architecture, channels, classes: 3, seed: 9);
        var tape = new Tape(kernels) { Training = true };
        // The ReLU right before the first pool: features.1 in the GAP-CNN, features.2 (after batch norm) in the VGG net.
        string relu = architecture == "vgg" ? "features.2" : "features.1";
        if (keepReluOutputs) tape.Keep(relu);
        var logits = model.Call(tape, images);
        tape.Backward(tape.CrossEntropy(logits, labels));
        var gradients = model.TrainableParameters().SelectMany(p => p.Value.Grad!.ToArray()).ToArray();
        return (logits.ToArray(), gradients, tape.Named.ContainsKey(relu));
    }
}
