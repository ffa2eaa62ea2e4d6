using NanoCam.Autodiff;
using NanoCam.Cpu.Simd;
using NanoCam.Ops;
using Xunit.Abstractions;

namespace NanoCam.Onnx.Tests;

/// <summary>
/// A gradient pass through the zoo's LayerNormalization nodes run as one kernel forward and backward
/// (<see cref="LayerNormNode"/>) against the same pass with <see cref="OnnxModel.Fuse"/> off (the composed tape ops):
/// ∂(seed · head input)/∂image and /∂(a tensor before the first LayerNormalization).
/// </summary>
public sealed class LayerNormGradientTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("vit_tiny.onnx", 5)]
    [InlineData("convnext_tiny_narrow.onnx", 7)]
    public void OneKernelLayerNormBackward_GivesTheComposedGradients(string file, int layerNorms)
    {
        var model = OnnxModel.Load(TestData.Path("models", "zoo", file));
        using var kernels = new SimdKernels(2);
        var (fused, fusedTape) = InputGradient(model, kernels);
        model.Fuse = false;
        var (plain, plainTape) = InputGradient(model, kernels);
        double scale = plain.Max(MathF.Abs), diff = plain.Zip(fused).Max(p => Math.Abs(p.First - p.Second)) / scale;
        output.WriteLine($"{file}: ∂/∂image max |Δ| / max = {diff:E2} (max |∂| {scale:G3}); LayerNorm nodes {Count(fusedTape)} fused, {Count(plainTape)} plain");
        Assert.True(scale > 0, "the gradient is zero");
        Assert.True(diff <= 1e-4, $"{file}: the one-kernel backward differs from the composed one by {diff:E2} of the largest");
        Assert.Equal((layerNorms, 0), (Count(fusedTape), Count(plainTape)));
    }

    private static int Count(Tape tape) => tape.Nodes.Count(n => n is LayerNormNode);

    /// <summary>∂(Σ r ⊙ head input)/∂image for a fixed random image and r (the class head of vit_tiny is zero, so its logits carry no gradient).</summary>
    private static (float[] Gradient, Tape Tape) InputGradient(OnnxModel model, SimdKernels kernels)
    {
        var input = model.Inputs[0];
        var image = Tensor.Zeros(input.Dims.Select(d => d > 0 ? d : 1).ToArray());
        var rng = new Random(7);
        for (int i = 0; i < image.Size; i++) image.Span[i] = (float)(rng.NextDouble() * 4 - 2);
        image.RequiresGrad = true;
        var tape = new Tape(kernels);
        model.Run(tape, image);
        var features = tape.Find(model.Producer(model.OutputNames[0])!.Inputs[0]);
        var seed = Tensor.Zeros(features.Shape.ToArray());
        for (int i = 0; i < seed.Size; i++) seed.Span[i] = (float)(rng.NextDouble() * 2 - 1);
        tape.Backward(features, seed);
        return (image.Grad!.ToArray(), tape);
    }
}
