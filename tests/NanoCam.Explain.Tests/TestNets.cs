using NanoCam.Cpu.Naive;
using NanoCam.Nn.Models;
using NanoCam.Nn.Modules;

namespace NanoCam.Explain.Tests;

/// <summary>Small hand-built GAP networks and helpers shared by the method tests.</summary>
internal static class TestNets
{
    /// <summary>conv 3×3 (pad 1) C→K, ReLU, GAP, FC: "features.0" is the convolution, "features" the ReLU output.</summary>
    public static GapCnn OneConv(int inputChannels, int channels, int classes, int seed, bool randomBias = false)
    {
        var model = new GapCnn(new Sequential(new Conv2d(inputChannels, channels, 3, padding: 1, rng: new Random(seed)), new ReLU()),
            channels, classes, new Random(seed + 1));
        if (randomBias) RandomizeBiases(model, seed + 2);
        return model;
    }

    /// <summary>conv C→H, ReLU, conv H→K, ReLU, GAP, FC: "features.1" is a hidden layer whose gradient varies in space.</summary>
    public static GapCnn TwoConv(int inputChannels, int hidden, int channels, int classes, int seed)
    {
        var rng = new Random(seed);
        var model = new GapCnn(new Sequential(
            new Conv2d(inputChannels, hidden, 3, padding: 1, rng: rng), new ReLU(),
            new Conv2d(hidden, channels, 3, padding: 1, rng: rng), new ReLU()), channels, classes, rng);
        RandomizeBiases(model, seed + 2);
        return model;
    }

    /// <summary>Every bias uniform in [−0.2, 0.2].</summary>
    public static void RandomizeBiases(GapCnn model, int seed)
    {
        var rng = new Random(seed);
        foreach (var (name, parameter) in model.NamedParameters())
            if (name.EndsWith("bias", StringComparison.Ordinal))
            {
                var span = parameter.Value.Span;
                for (int i = 0; i < span.Length; i++) span[i] = (float)(0.4 * rng.NextDouble() - 0.2);
            }
    }

    /// <summary>Uniform values in [−0.5, 1) (some negative, so ReLUs switch off).</summary>
    public static Tensor Images(int seed, params int[] dims)
    {
        var rng = new Random(seed);
        var t = Tensor.Zeros(dims);
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = (float)(1.5 * rng.NextDouble() - 0.5);
        return t;
    }

    public static CamExplainer Explainer(GapCnn model) => new(new ModuleExplainable(model), NaiveKernels.Instance);

    /// <summary>Image n of a batch as its own [1, C, H, W] tensor.</summary>
    public static Tensor ImageOf(Tensor batch, int n)
    {
        int size = batch.Size / batch.Shape[0];
        return Tensor.FromArray(batch.ToArray().AsSpan(n * size, size).ToArray(), 1, batch.Shape[1], batch.Shape[2], batch.Shape[3]);
    }

    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= tolerance * (1f + MathF.Abs(expected[i])),
                $"element {i}: expected {expected[i]}, got {actual[i]}");
    }

    public static float Softmax(ReadOnlySpan<float> logits, int index)
    {
        double sum = 0;
        foreach (var z in logits) sum += Math.Exp(z);
        return (float)(Math.Exp(logits[index]) / sum);
    }

    /// <summary>Σ_k weights[k]·A^k of image n, by plain loops.</summary>
    public static float[] WeightedSum(LayerCapture c, int n, ReadOnlySpan<float> weights)
    {
        var map = new float[c.Plane];
        for (int k = 0; k < c.Channels; k++)
            for (int p = 0; p < c.Plane; p++) map[p] += weights[k] * c.Activations[(n * c.Channels + k) * c.Plane + p];
        return map;
    }
}
