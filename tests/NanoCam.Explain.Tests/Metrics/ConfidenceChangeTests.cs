using NanoCam.Explain.Metrics;

namespace NanoCam.Explain.Tests.Metrics;

/// <summary>Average drop and increase in confidence on two images, worked by hand.</summary>
public sealed class ConfidenceChangeTests
{
    [Fact]
    public void TwoImages_DropAndIncrease_MatchTheHandComputation()
    {
        // Image 0: [0.8, 0.4] (p₀ = 0.6); map [1, 0.5] → E = [0.8, 0.2], p₀ = 0.5: drop (0.6 − 0.5)/0.6 = 1/6.
        // Image 1: [0.2, 0.6] (p₁ = 1 − 0.4 = 0.6); map [1, 0] → E = [0.2, 0], p₁ = 0.9: an increase, no drop.
        var model = new MeanPixelClassifier(2);
        var pairs = ConfidenceChange.Measure(model, [0.8f, 0.4f, 0.2f, 0.6f], [1f, 0.5f, 1f, 0f], [0, 1], 1, 1, 2);
        Assert.Equal(0.6f, pairs[0].Full, 6);
        Assert.Equal(0.5f, pairs[0].Explained, 6);
        Assert.Equal(0.6f, pairs[1].Full, 6);
        Assert.Equal(0.9f, pairs[1].Explained, 6);
        // average drop = (1/6 + 0)/2 · 100 = 8.333…%; increase = 1 of 2 = 50%
        Assert.Equal(100.0 / 12, ConfidenceChange.AverageDrop(pairs), 4);
        Assert.Equal(50.0, ConfidenceChange.IncreaseInConfidence(pairs), 10);
        Assert.Equal(1, model.Calls); // the full and the masked images in one batch
    }

    [Fact]
    public void AnEqualProbability_IsNeitherADropNorAnIncrease()
    {
        ConfidenceChange.Pair[] pairs = [new(0.5f, 0.5f)];
        Assert.Equal(0, ConfidenceChange.AverageDrop(pairs));
        Assert.Equal(0, ConfidenceChange.IncreaseInConfidence(pairs));
    }
}
