using NanoCam.Autodiff;
using NanoCam.Cpu.Naive;
using NanoCam.Ops;
using Xunit.Abstractions;

namespace NanoCam.Onnx.Tests;

/// <summary>Runs the pretrained SqueezeNet v1.1 once per file on fish.csv (shared by the tests below).</summary>
public sealed class SqueezeNetFixture
{
    public SqueezeNetFixture()
    {
        Fish = Tensor.FromArray(TestData.ReadValuesLine(TestData.Path("models", "reference", "fish.csv")), 1, 3, 224, 224);
        Fp32 = OnnxModel.Load(TestData.Path("models", "SqueezeNet_fp32_from_fp16.onnx"));
        Fp16 = OnnxModel.Load(TestData.Path("models", "SqueezeNet_fp16.onnx"));
        FishFp32 = Fp32.Run(new Tape(new NaiveKernels()) { GradEnabled = false }, Fish).ToArray();
        FishFp16 = Fp16.Run(new Tape(new NaiveKernels()) { GradEnabled = false }, Fish).ToArray();
    }

    public Tensor Fish { get; }
    public OnnxModel Fp32 { get; }
    public OnnxModel Fp16 { get; }
    public float[] FishFp32 { get; }
    public float[] FishFp16 { get; }
}

public sealed class SqueezeNetTests(SqueezeNetFixture squeezeNet, ITestOutputHelper output) : IClassFixture<SqueezeNetFixture>
{
    [Fact]
    public void Fp16Model_WidensToFloat32_AndGivesTheSameTop5()
    {
        Assert.All(squeezeNet.Fp16.Parameters, p => Assert.Equal(squeezeNet.Fp32.Parameters[p.Key].ToArray(), p.Value.ToArray()));
        Assert.Equal(TestData.TopK(squeezeNet.FishFp32, 5), TestData.TopK(squeezeNet.FishFp16, 5));
        Assert.True(MaxAbsDiff(squeezeNet.FishFp32, squeezeNet.FishFp16) <= 1e-6);
    }

    [Fact]
    public void Model_ExposesScoresBeforeSoftmax_AndTheConv10CamHead()
    {
        var model = squeezeNet.Fp32;
        Assert.Equal("pool10_1", model.OutputBeforeSoftmax);
        Assert.Equal(52, model.Parameters.Count);
        Assert.Equal(66, model.Nodes.Count);
        var head = model.FindCamHead(out var reason);
        Assert.NotNull(head);
        Assert.Equal("", reason);
        Assert.Equal("fire9/concat_1", head.FeatureLayer);
        Assert.Equal("conv1x1-gap", head.Kind);
        Assert.Equal((1000, 512), (head.Classes, head.Channels));
        Assert.Equal(model.Parameters["conv10_w_0"].ToArray(), head.Weights);
        Assert.Equal(model.Parameters["conv10_b_0"].ToArray(), head.Bias);
        Assert.NotNull(head.Note);
    }

    [Fact]
    public void Kitten_Top3MatchesTheReference_AndGradientsReachTheFeatureLayer()
    {
        var kitten = Tensor.FromArray(TestData.ReadValuesLine(TestData.Path("models", "reference", "kitten_224.csv")), 1, 3, 224, 224);
        var model = squeezeNet.Fp32;
        var tape = new Tape(new NaiveKernels());
        tape.RequireGradient("fire9/concat_1");
        var scores = model.Scores(tape, kitten);
        var probabilities = tape.Find("softmaxout_1").ToArray();
        output.WriteLine($"kitten: 281 {probabilities[281]:F6}, 285 {probabilities[285]:F6}, 282 {probabilities[282]:F6}");
        Assert.Equal([281, 285, 282], TestData.TopK(probabilities, 3));
        Assert.Equal(0.931458f, probabilities[281], 1e-4f);
        Assert.Equal(0.065329f, probabilities[285], 1e-4f);
        Assert.Equal(0.002911f, probabilities[282], 1e-4f);
        Assert.Equal([1, 1000], scores.Shape.ToArray());

        // Backward from y^281 (the pre-softmax score): ∂y/∂A^k(x,y) = w[281,k]·1[conv10_1 > 0]/169 through ReLU and GAP.
        const int cls = 281;
        var seed = Tensor.Zeros(scores.Shape);
        seed[0, cls] = 1f;
        tape.Backward(scores, seed);
        var features = tape.Find("fire9/concat_1");
        var grad = features.Grad!.ToArray();
        var preRelu = tape.Find("conv10_1").ToArray();
        var w = model.Parameters["conv10_w_0"].ToArray();
        for (int k = 0; k < 512; k += 37)
            for (int p = 0; p < 169; p += 13)
            {
                float expected = preRelu[cls * 169 + p] > 0 ? w[cls * 512 + k] / 169f : 0f;
                Assert.Equal(expected, grad[k * 169 + p], 1e-7f);
            }
    }

    private static double MaxAbsDiff(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        double max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
        return max;
    }
}
