using NanoCam.Explain.Metrics;

namespace NanoCam.Explain.Tests.Metrics;

/// <summary>Max / average sensitivity and the local Lipschitz estimate against cases worked by hand.</summary>
public sealed class RobustnessTests
{
    [Fact]
    public void FromSamples_TwoSamples_MatchTheHandComputation()
    {
        // x = e(x) = [3, 4], ‖e(x)‖ = 5.
        // Sample 1: x' = [3.1, 4.1] (‖x' − x‖ = 0.1·√2), e(x') = [3.3, 4.4] (Δ = √(0.09 + 0.16) = 0.5).
        // Sample 2: x' = [2.9, 4.0] (‖x' − x‖ = 0.1),     e(x') = [3.0, 3.9] (Δ = 0.1).
        float[] image = [3, 4], map = [3, 4];
        float[] perturbed = [3.1f, 4.1f, 2.9f, 4.0f], perturbedMaps = [3.3f, 4.4f, 3.0f, 3.9f];
        var scores = Robustness.FromSamples(image, map, perturbed, perturbedMaps, 2);
        Assert.Equal(0.5 / 5, scores.MaxSensitivity, 5);                 // max Δ / ‖e(x)‖
        Assert.Equal((0.5 + 0.1) / 2 / 5, scores.AverageSensitivity, 5); // mean Δ / ‖e(x)‖
        Assert.Equal(0.5 / (0.1 * Math.Sqrt(2)), scores.LocalLipschitz, 4); // max(3.536, 1.0)
    }

    [Fact]
    public void Measure_LinearExplanation_HasLipschitzConstantTwo_AndExplainsTheCopiesInOneBatch()
    {
        // e(x) = 2x (one channel, so the map is the image): ‖e(x') − e(x)‖ / ‖x' − x‖ = 2 for every sample, and the
        // sensitivity is ‖2u‖/‖2x‖ = ‖u‖/‖x‖, read back from the perturbations the explanation was given.
        float[] image = [0.5f, -1f, 2f, 0.25f, 1f, -0.5f];
        var map = image.Select(v => 2 * v).ToArray();
        int calls = 0;
        float[] seen = [];
        int[] seenClasses = [];
        var scores = Robustness.Measure((copies, count, classes) =>
        {
            calls++;
            seen = copies;
            seenClasses = classes;
            Assert.Equal(5, count);
            return copies.Select(v => 2 * v).ToArray();
        }, image, map, 3, 1, 2, 3, radius: 0.1f, samples: 5, new Random(7));

        Assert.Equal(1, calls);
        Assert.Equal(Enumerable.Repeat(3, 5), seenClasses);
        Assert.Equal(30, seen.Length);
        for (int i = 0; i < seen.Length; i++) Assert.InRange(Math.Abs(seen[i] - image[i % 6]), 0, 0.1f + 1e-6f); // the L∞ ball
        Assert.Equal(2, scores.LocalLipschitz, 4);
        double imageNorm = Math.Sqrt(image.Sum(v => (double)v * v));
        var noiseNorms = Enumerable.Range(0, 5).Select(j => Math.Sqrt(Enumerable.Range(0, 6).Sum(i => Math.Pow(seen[j * 6 + i] - image[i], 2)))).ToArray();
        Assert.Equal(noiseNorms.Max() / imageNorm, scores.MaxSensitivity, 4);
        Assert.Equal(noiseNorms.Average() / imageNorm, scores.AverageSensitivity, 4);
        Assert.True(scores.AverageSensitivity < scores.MaxSensitivity);
    }

    [Fact]
    public void FromSamples_FlatOriginalMap_HasNoSensitivity()
    {
        var scores = Robustness.FromSamples([1f, 2f], [0f, 0f], [1.1f, 2f], [0.5f, 0f], 1);
        Assert.True(double.IsNaN(scores.MaxSensitivity));
        Assert.True(double.IsNaN(scores.AverageSensitivity));
        Assert.Equal(5, scores.LocalLipschitz, 4); // 0.5 / 0.1
    }
}
