using NanoCam.Autodiff;
using NanoCam.Core.Tests;
using NanoCam.Cpu.Naive;
using NanoCam.Onnx.Protos;
using static NanoCam.Onnx.Tests.TestGraphs;

namespace NanoCam.Onnx.Tests;

/// <summary>
/// LayerNormalization, GroupNormalization, InstanceNormalization and LRN: backward through the imported node against
/// finite differences (for the data and for γ and β), the cases the ONNX node tests leave out (GroupNormalization's
/// per-group γ of opset 18, an even LRN window) against direct loops, and LayerNormalization's batch rule.
/// </summary>
public sealed class NormalizationTests
{
    [Fact]
    public void LayerNormalization_Backward_ForXScaleAndBias_MatchesFiniteDifferences()
    {
        var rng = new Random(11);
        var (x, scale, bias) = (TapeGradientCheck.Random(rng, 2, 3, 4), TapeGradientCheck.Random(rng, 3, 4), TapeGradientCheck.Random(rng, 3, 4));
        var model = SingleNode(Node("LayerNormalization", ["x", "scale", "bias"], ["y"], ("axis", 1), ("epsilon", 1e-3f)), 17);
        TapeGradientCheck.Check(new NaiveKernels(), tape => Output(model, tape, ("x", x), ("scale", scale), ("bias", bias)), [x, scale, bias], h: 1e-3f, tolerance: 5e-3f);
    }

    [Fact]
    public void GroupNormalization_Backward_ForXScaleAndBias_MatchesFiniteDifferences()
    {
        var rng = new Random(12);
        var (x, scale, bias) = (TapeGradientCheck.Random(rng, 2, 4, 3, 2), TapeGradientCheck.Random(rng, 4), TapeGradientCheck.Random(rng, 4));
        var model = SingleNode(Node("GroupNormalization", ["x", "scale", "bias"], ["y"], ("num_groups", 2)), 21);
        TapeGradientCheck.Check(new NaiveKernels(), tape => Output(model, tape, ("x", x), ("scale", scale), ("bias", bias)), [x, scale, bias], h: 1e-3f, tolerance: 5e-3f);
    }

    [Fact]
    public void InstanceNormalization_Backward_ForXScaleAndBias_MatchesFiniteDifferences()
    {
        var rng = new Random(13);
        var (x, scale, bias) = (TapeGradientCheck.Random(rng, 2, 3, 2, 3), TapeGradientCheck.Random(rng, 3), TapeGradientCheck.Random(rng, 3));
        var model = SingleNode(Node("InstanceNormalization", ["x", "scale", "bias"], ["y"]), 22);
        TapeGradientCheck.Check(new NaiveKernels(), tape => Output(model, tape, ("x", x), ("scale", scale), ("bias", bias)), [x, scale, bias], h: 1e-3f, tolerance: 5e-3f);
    }

    [Fact]
    public void Lrn_Backward_MatchesFiniteDifferences()
    {
        var x = TapeGradientCheck.Random(new Random(14), 2, 5, 2, 3);
        // A large α makes the denominator depend on the neighbours strongly enough for the check to see it.
        var model = SingleNode(Node("LRN", ["x"], ["y"], ("size", 3), ("alpha", 0.5f), ("beta", 0.75f), ("bias", 1.5f)), 13);
        TapeGradientCheck.Check(new NaiveKernels(), tape => model.Run(tape, x), [x], h: 1e-3f, tolerance: 5e-3f);
    }

    [Fact]
    public void GroupNormalization_Opset18_ScalesPerGroup_MatchesADirectLoop()
    {
        // x [2, 6, 2, 2] in 3 groups of 2 channels; γ and β hold one value per group before opset 21.
        var rng = new Random(15);
        var x = TapeGradientCheck.Random(rng, 2, 6, 2, 2);
        float[] scale = [0.5f, -1.5f, 2f], bias = [0.25f, 0f, -1f];
        var y = Run(Node("GroupNormalization", ["x", "scale", "bias"], ["y"], ("num_groups", 3), ("epsilon", 1e-2f)), 18,
            ("x", x), ("scale", Tensor.FromArray(scale, 3)), ("bias", Tensor.FromArray(bias, 3)));
        Assert.Equal([2, 6, 2, 2], y.Shape.ToArray());
        for (int n = 0; n < 2; n++)
            for (int g = 0; g < 3; g++)
            {
                var members = new List<(int C, int H, int W)>();
                for (int c = 2 * g; c < 2 * g + 2; c++)
                    for (int h = 0; h < 2; h++)
                        for (int w = 0; w < 2; w++) members.Add((c, h, w));
                double mean = members.Average(m => (double)x[n, m.C, m.H, m.W]);
                double variance = members.Average(m => Math.Pow(x[n, m.C, m.H, m.W] - mean, 2));
                foreach (var (c, h, w) in members)
                {
                    double expected = scale[g] * (x[n, c, h, w] - mean) / Math.Sqrt(variance + 1e-2) + bias[g];
                    Assert.Equal(expected, y[n, c, h, w], 1e-5);
                }
            }
    }

    [Theory]
    [InlineData(4)]
    [InlineData(5)]
    public void Lrn_WithAnyWindow_MatchesTheSchemaFormula(int size)
    {
        // Channels c − ⌊(size − 1)/2⌋ … c + ⌈(size − 1)/2⌉: for size 4 one before and two after.
        var x = TapeGradientCheck.Random(new Random(16), 1, 6, 2, 1);
        const float alpha = 0.3f, beta = 0.6f, bias = 1.2f;
        var y = Run(Node("LRN", ["x"], ["y"], ("size", size), ("alpha", alpha), ("beta", beta), ("bias", bias)), 13, ("x", x));
        for (int c = 0; c < 6; c++)
            for (int h = 0; h < 2; h++)
            {
                double squares = 0;
                for (int i = Math.Max(0, c - (size - 1) / 2); i <= Math.Min(5, c + size / 2); i++) squares += x[0, i, h, 0] * x[0, i, h, 0];
                double expected = x[0, c, h, 0] / Math.Pow(bias + alpha / size * squares, beta);
                Assert.Equal(expected, y[0, c, h, 0], 1e-6);
            }
    }

    [Fact]
    public void LayerNormalization_StatisticsOutputs_KeepTheNormalizedAxesAsOne()
    {
        var x = TapeGradientCheck.Random(new Random(17), 2, 3, 4);
        var model = SingleNode(Node("LayerNormalization", ["x", "scale"], ["y", "mean", "inv"], ("axis", -2)), 17);
        var outputs = model.Run(new Tape(new NaiveKernels()) { GradEnabled = false },
            new Dictionary<string, OnnxValue> { ["x"] = OnnxValue.FromTensor(x), ["scale"] = OnnxValue.FromTensor(Tensor.FromArray(Enumerable.Repeat(1f, 12).ToArray(), 3, 4)) });
        Assert.Equal([2, 1, 1], outputs["mean"].Dims);
        Assert.Equal([2, 1, 1], outputs["inv"].Dims);
        for (int n = 0; n < 2; n++)
        {
            var row = Enumerable.Range(0, 12).Select(i => (double)x[n, i / 4, i % 4]).ToArray();
            double mean = row.Average(), variance = row.Average(v => (v - mean) * (v - mean));
            Assert.Equal(mean, outputs["mean"].ToFloatArray()[n], 1e-6);
            Assert.Equal(1 / Math.Sqrt(variance + 1e-5), outputs["inv"].ToFloatArray()[n], 1e-5);
            Assert.Equal((row[5] - mean) / Math.Sqrt(variance + 1e-5), outputs["y"].ToFloatArray()[n * 12 + 5], 1e-5);
        }
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(-2, false)]
    [InlineData(1, true)]
    public void LayerNormalization_FromAxisZero_MixesTheBatch(int axis, bool independent)
    {
        // x declared [1, 4]; γ and β are one broadcast value each, so every axis choice folds at any batch size.
        var graph = new GraphProto { Name = "test" };
        graph.Node.Add(Node("LayerNormalization", ["x", "scale", "bias"], ["y"], ("axis", axis)));
        graph.Input.Add(FloatInfo("x", 1, 4));
        graph.Output.Add(new ValueInfoProto { Name = "y" });
        graph.Initializer.Add(FloatTensor("scale", [1], [2f]));
        graph.Initializer.Add(FloatTensor("bias", [1], [0.5f]));
        var batch = Load(graph, 17).Batch;
        Assert.True(batch.Independent == independent, batch.Reason);
        if (!independent) Assert.Contains("across the batch axis", batch.Reason);
    }

    private static Tensor Output(OnnxModel model, Tape tape, params (string Name, Tensor Value)[] inputs) =>
        model.Run(tape, inputs.ToDictionary(i => i.Name, i => OnnxValue.FromTensor(i.Value)))["y"].Tensor!;
}
