using NanoCam.Autodiff;
using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;

namespace NanoCam.Onnx.Tests;

/// <summary>
/// No-grad passes through the inference plan (prepared weights, Conv + Relu fused, fire-module convolutions written
/// into their Concat) against the unfused pass of the same model, which a tape with gradients runs.
/// </summary>
public sealed class InferencePlanTests
{
    private static OnnxModel Load() => OnnxModel.Load(TestData.Path("models", "SqueezeNet_fp32_from_fp16.onnx"));

    private static readonly Tensor Both = TestData.BgrImage("both.png");

    /// <summary>The unfused forward: a tape with gradients (no parameter asks for one, so nothing is trained).</summary>
    private static (float[] Probabilities, Tape Tape) Unfused(OnnxModel model, IKernels kernels)
    {
        var tape = new Tape(kernels);
        return (model.Run(tape, Both).ToArray(), tape);
    }

    [Fact]
    public void NoGradPass_FusesConvReluAndConcat_AndAgreesWithTheUnfusedPass()
    {
        var model = Load();
        var simd = new SimdKernels(1);
        var (expected, unfusedTape) = Unfused(model, simd);
        var tape = new Tape(simd) { GradEnabled = false };
        var fused = model.Run(tape, Both).ToArray();
        Assert.Equal(TestData.TopK(expected, 5), TestData.TopK(fused, 5));
        // Fused and unfused convolutions sum in different orders (and, by CPU, with 256- or 512-bit vectors): 1e-5 of the largest probability.
        AssertClose(expected, fused, 1e-5f);

        // The concat and the squeeze's ReLU output are published; the fused-away pre-activations and expand outputs are not.
        Assert.Equal(unfusedTape.Find("fire2/concat_1").ToArray().Length, tape.Find("fire2/concat_1").ToArray().Length);
        AssertClose(unfusedTape.Find("fire9/concat_1").ToArray(), tape.Find("fire9/concat_1").ToArray(), 1e-5f);
        Assert.True(tape.Named.ContainsKey("fire2/squeeze1x1_2"));
        Assert.False(tape.Named.ContainsKey("fire2/squeeze1x1_1"));
        Assert.False(tape.Named.ContainsKey("fire2/expand1x1_2"));
        Assert.False(tape.Named.ContainsKey("conv10_1"));
        // 26 convolutions, 3 max pools, GAP, softmax (and the Dropout's identity view): no separate ReLU or Concat node.
        Assert.True(tape.Count < unfusedTape.Count - 30, $"fused pass recorded {tape.Count} nodes, unfused {unfusedTape.Count}");
    }

    [Fact]
    public void KeptAndHookedNames_StayCapturable_WithTheUnfusedValues()
    {
        var model = Load();
        var simd = new SimdKernels(1);
        var (expected, unfusedTape) = Unfused(model, simd);
        var tape = new Tape(simd) { GradEnabled = false };
        tape.Keep("conv10_1");            // a pre-ReLU output that would fold into its ReLU
        tape.Keep("fire2/expand1x1_2");   // a ReLU output that would be written straight into its concat
        float[]? hooked = null;
        tape.AddForwardHook("fire3/expand3x3_1", t => hooked = t.ToArray());
        var probabilities = model.Run(tape, Both).ToArray();

        AssertClose(unfusedTape.Find("conv10_1").ToArray(), tape.Find("conv10_1").ToArray(), 1e-5f);
        AssertClose(unfusedTape.Find("fire2/expand1x1_2").ToArray(), tape.Find("fire2/expand1x1_2").ToArray(), 1e-5f);
        Assert.NotNull(hooked);
        AssertClose(unfusedTape.Find("fire3/expand3x3_1").ToArray(), hooked, 1e-5f);
        AssertClose(expected, probabilities, 1e-5f);
    }

    [Fact]
    public void ParametersChanged_PreparesTheWeightsAgain()
    {
        var model = Load();
        var simd = new SimdKernels(1);
        var tape = new Tape(simd) { GradEnabled = false };
        model.Run(tape, Both);   // conv10's weight is packed now
        var weight = model.Parameters["conv10_w_0"].Span;
        for (int i = 0; i < weight.Length; i++) weight[i] *= i % 3 == 0 ? -1f : 0.5f;

        // The packed copy still holds the old values until the model is told (the cache is real, hence the contract) ...
        tape.Reset();
        var stale = model.Run(tape, Both).ToArray();
        var (expected, _) = Unfused(model, NaiveKernels.Instance);
        Assert.True(MaxAbsDiff(expected, stale) > 1e-3);

        // ... and after ParametersChanged the no-grad pass agrees with the naive kernels on the new weights.
        int version = model.ParameterVersion;
        model.ParametersChanged();
        Assert.Equal(version + 1, model.ParameterVersion);
        tape.Reset();
        var fresh = model.Run(tape, Both).ToArray();
        AssertClose(expected, fresh, 1e-5f);
    }

    [Fact]
    public void SetTrainable_AndTrainingPasses_MoveTheParameterVersion()
    {
        var model = Load();
        int version = model.ParameterVersion;
        model.SetTrainable(true);
        Assert.True(model.ParameterVersion > version);
        version = model.ParameterVersion;
        model.Run(new Tape(new SimdKernels(1)), Both);
        Assert.True(model.ParameterVersion > version, "a pass with gradients on trainable parameters may be followed by an optimizer step");
    }

    private static double MaxAbsDiff(float[] a, float[] b) => a.Zip(b, (x, y) => (double)Math.Abs(x - y)).Max();

    private static void AssertClose(float[] expected, float[] actual, float relative)
    {
        Assert.Equal(expected.Length, actual.Length);
        float scale = 1e-30f + expected.Max(MathF.Abs);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= relative * scale, $"element {i}: {actual[i]:G7}, expected {expected[i]:G7}");
    }
}
