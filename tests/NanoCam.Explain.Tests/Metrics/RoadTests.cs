using NanoCam.Explain.Metrics;

namespace NanoCam.Explain.Tests.Metrics;

/// <summary>ROAD's most- and least-relevant-first drops on a model whose probability is the mean pixel value.</summary>
public sealed class RoadTests
{
    [Fact]
    public void Drops_OnAFourPixelRow_MatchTheHandComputation()
    {
        // Image [0.2, 0.9, 0.1, 0.5] (1×4), p₀ = mean = 0.425; the map orders the pixels 1, 2, 3, 0.
        float[] image = [0.2f, 0.9f, 0.1f, 0.5f];
        float[] map = [0.1f, 0.9f, 0.5f, 0.3f];
        var model = new MeanPixelClassifier(4);
        var drops = Road.Measure(model, image, 1, 1, 4, map, 0, [25, 50], new Random(1), noise: 0);
        // MoRF 25%: pixel 1 ← (0.2 + 0.1)/2 = 0.15 → mean 0.2375, drop 0.1875.
        // MoRF 50%: pixels 1, 2 solved together between 0.2 and 0.5 → 0.3, 0.4 → mean 0.35, drop 0.075.
        TestNets.AssertClose([0.1875f, 0.075f], drops.MostRelevantFirst.Select(v => (float)v).ToArray(), 1e-6f);
        // LeRF 25%: pixel 0 (its only neighbour in the row is 0.9) ← 0.9 → mean 0.6, drop −0.175.
        // LeRF 50%: pixels 0 and 3 ← 0.9 and 0.1 → mean 0.5, drop −0.075.
        TestNets.AssertClose([-0.175f, -0.075f], drops.LeastRelevantFirst.Select(v => (float)v).ToArray(), 1e-6f);
        Assert.Equal((0.1875 + 0.075) / 2, drops.MostRelevantFirstMean, 6);
        Assert.Equal(1, model.Calls); // the original and the four imputed images in one batch
        Assert.Equal(5, model.Images);
    }

    [Theory]
    [InlineData(4096, 20, 819)]
    [InlineData(4096, 80, 3277)]
    [InlineData(4, 50, 2)]
    [InlineData(10, 25, 3)]
    public void RemovedCount_RoundsTheFraction(int pixels, int percent, int expected) =>
        Assert.Equal(expected, Road.RemovedCount(pixels, percent));
}
