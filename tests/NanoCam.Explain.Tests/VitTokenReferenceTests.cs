using System.Text.Json;
using NanoCam.Autodiff;
using NanoCam.Cpu.Simd;
using NanoCam.Explain.Methods;
using NanoCam.Imaging;
using NanoCam.Onnx;
using Xunit.Abstractions;

namespace NanoCam.Explain.Tests;

/// <summary>
/// The tiny ViT of Reference/vit/ (made by Reference/make_vit_references.py) against PyTorch: logits, the tokens at
/// the last block's ln_1, and Grad-CAM / Grad-CAM++ when those tokens and their gradients are laid out as
/// pytorch-grad-cam's ViT reshape_transform does (class token dropped, 4×4 grid, channels first) and handed to the
/// methods' own weight and combination steps and the shared tail (ReLU, bilinear upsampling, min–max).
/// </summary>
public sealed class VitTokenReferenceTests(ITestOutputHelper output)
{
    private static string PathOf(string file) => Path.Combine(AppContext.BaseDirectory, "Reference", "vit", file);

    private static readonly Lazy<(OnnxModel Model, string Layer, int Class, int Grid)> Reference = new(() =>
    {
        var meta = JsonDocument.Parse(File.ReadAllText(PathOf("vit_tiny_head.json"))).RootElement;
        return (OnnxModel.Load(PathOf("vit_tiny_head.onnx")), meta.GetProperty("target_tensor").GetString()!,
            meta.GetProperty("target_class").GetInt32(), meta.GetProperty("grid")[0].GetInt32());
    });

    [Fact]
    public void Logits_AndTheTokensAtTheTarget_MatchPyTorch()
    {
        var (model, layer, cls, _) = Reference.Value;
        var (logits, tokens, _) = Pass(model, layer, cls);
        var expectedLogits = Npy.Read(PathOf("logits.npy")).Data;
        var expectedTokens = Npy.Read(PathOf("tokens.npy")).Data;
        double logitError = MaxDelta(logits, expectedLogits) / expectedLogits.Max(MathF.Abs);
        double tokenError = MaxDelta(tokens, expectedTokens) / expectedTokens.Max(MathF.Abs);
        output.WriteLine($"logits: max |Δ| / max |logit| = {logitError:E2}; tokens [1, 17, 32]: max |Δ| / max |token| = {tokenError:E2}");
        Assert.True(logitError <= 1e-4, $"logits differ by {logitError:E2} of the largest");
        Assert.True(tokenError <= 1e-4, $"tokens differ by {tokenError:E2} of the largest");
        Assert.Equal(cls, Array.IndexOf(logits, logits.Max()));
        Assert.Equal(layer, model.ResolveLayer("encoder.layers.encoder_layer_1.ln_1"));
    }

    [Theory, InlineData("gradcam", "gradcam.npy"), InlineData("gradcam++", "gradcampp.npy")]
    public void TokensOnTheirGrid_GiveThePytorchGradCamMap(string methodName, string file)
    {
        var (model, layer, cls, grid) = Reference.Value;
        var (logits, tokens, gradients) = Pass(model, layer, cls);
        int count = 1 + grid * grid, width = tokens.Length / count;
        var capture = new LayerCapture(layer, 1, width, grid, grid, OnGrid(tokens, width, grid), OnGrid(gradients, width, grid), logits, logits.Length, [cls]);
        var explainable = new OnnxExplainable(model, null);
        var input = Tensor.FromArray(Npy.Read(PathOf("input.npy")).Data, [1, 3, 64, 64]);
        var explainer = new CamExplainer(explainable, new SimdKernels(1));
        var context = new CamContext(capture, explainable, input, explainer, CamTarget.Class(cls));
        var method = CamMethods.Create(methodName);

        var weights = new float[width];
        method.ChannelWeights(context, weights);
        var sum = new float[grid * grid];
        method.Combine(context, 0, weights, sum);
        var raw = new float[sum.Length];
        MapOps.Relu(sum, raw);
        var upsampled = new float[64 * 64];
        MapOps.Upsample(raw, grid, grid, upsampled, 64, 64);
        var map = new float[upsampled.Length];
        Assert.True(MapOps.MinMaxNormalize(upsampled, map), "the map is flat");

        var expected = Npy.Read(PathOf(file)).Data;
        double r = Zoo.ZooModelTests.Pearson(map, expected), delta = MaxDelta(map, expected);
        output.WriteLine($"{methodName} at {layer} on the {grid}×{grid} token grid, class {cls}: Pearson r = {r:F5}, max |Δ| = {delta:F4}");
        Assert.True(r >= 0.99, $"Pearson r {r:F4} < 0.99");
        Assert.True(delta <= 0.05, $"max |Δ| {delta:F4} > 0.05");
    }

    [Theory, InlineData("gradcam", "gradcam.npy"), InlineData("gradcam++", "gradcampp.npy")]
    public void ExplainWithReshapeTokens_GivesThePytorchGradCamMap(string methodName, string file)
    {
        // What `nanocam explain --reshape-tokens` runs: the explainer lays the tokens on their grid itself.
        var (model, layer, cls, grid) = Reference.Value;
        var explainer = new CamExplainer(new OnnxExplainable(model, null), new SimdKernels(1)) { ReshapeTokens = true };
        var input = Tensor.FromArray(Npy.Read(PathOf("input.npy")).Data, [1, 3, 64, 64]);
        var map = explainer.Explain(CamMethods.Create(methodName), input, CamTarget.Class(cls), layer).NormalizedOf(0).ToArray();
        var expected = Npy.Read(PathOf(file)).Data;
        double r = Zoo.ZooModelTests.Pearson(map, expected), delta = MaxDelta(map, expected);
        output.WriteLine($"{methodName} with ReshapeTokens at {layer} ({grid}×{grid} grid), class {cls}: Pearson r = {r:F5}, max |Δ| = {delta:F4}");
        Assert.True(r >= 0.99, $"Pearson r {r:F4} < 0.99");
        Assert.True(delta <= 0.05, $"max |Δ| {delta:F4} > 0.05");
    }

    /// <summary>One forward and backward pass from y^c: the logits, and the target layer's tokens [1, T, D] and ∂y^c/∂tokens.</summary>
    private static (float[] Logits, float[] Tokens, float[] Gradients) Pass(OnnxModel model, string layer, int cls)
    {
        using var kernels = new SimdKernels(1);
        var tape = new Tape(kernels);
        tape.RequireGradient(layer);
        tape.Keep(layer);
        var scores = model.Scores(tape, Tensor.FromArray(Npy.Read(PathOf("input.npy")).Data, [1, 3, 64, 64]));
        var logits = scores.ToArray();
        var seed = new float[logits.Length];
        seed[cls] = 1f;
        tape.Backward(scores, Tensor.FromArray(seed, [1, logits.Length]));
        var tokens = tape.Find(layer);
        Assert.Equal([1, 17, 32], tokens.Shape.Dims.ToArray());
        return (logits, tokens.ToArray(), tokens.Grad!.ToArray());
    }

    /// <summary>
    /// pytorch-grad-cam's ViT reshape_transform: tokens [1, 1 + h·w, D] without the class token, token 1 + i·w + j at
    /// (i, j), channels first: [D, h, w].
    /// </summary>
    private static float[] OnGrid(float[] tokens, int width, int grid)
    {
        var planes = new float[width * grid * grid];
        for (int t = 0; t < grid * grid; t++)
            for (int k = 0; k < width; k++)
                planes[k * grid * grid + t] = tokens[(1 + t) * width + k];
        return planes;
    }

    private static double MaxDelta(float[] a, float[] b)
    {
        Assert.Equal(b.Length, a.Length);
        return a.Zip(b).Max(p => Math.Abs((double)p.First - p.Second));
    }
}
