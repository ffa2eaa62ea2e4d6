using NanoCam.Explain.Metrics;

namespace NanoCam.Explain.Tests.Metrics;

/// <summary>ROAD's noisy linear imputation on images where the solution of the linear system is known.</summary>
public sealed class NoisyLinearImputationTests
{
    /// <summary>A 7×7 ramp f(x, y) = 2x + 3y + 1 in channel 0 and 5 − x in channel 1.</summary>
    private static float[] Ramp(int size = 7)
    {
        var image = new float[2 * size * size];
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                image[y * size + x] = 2 * x + 3 * y + 1;
                image[size * size + y * size + x] = 5 - x;
            }
        return image;
    }

    [Fact]
    public void Impute_InteriorPixelsOfALinearRamp_TakeTheRampValue_WithNoNoise()
    {
        // The weights are symmetric about the pixel, so the weighted mean of a linear function is its value there; a
        // 3×3 hole solved jointly keeps the ramp too (the ramp satisfies every row of the system).
        var image = Ramp();
        var removed = new bool[49];
        for (int y = 2; y <= 4; y++)
            for (int x = 2; x <= 4; x++) removed[y * 7 + x] = true;
        var imputed = NoisyLinearImputation.Impute(image, 2, 7, 7, removed, noise: 0, new Random(1));
        TestNets.AssertClose(image, imputed, 1e-5f);
    }

    [Fact]
    public void Impute_ACornerPixel_IsTheWeightedMeanOfItsThreeNeighbours()
    {
        // f = x on 3×3; corner (0, 0): right neighbour 1 (weight 1/6), lower 0 (1/6), diagonal 1 (1/12), normalised by
        // 5/12: (1/6 + 1/12) / (5/12) = 0.6.
        var image = new float[9];
        for (int p = 0; p < 9; p++) image[p] = p % 3;
        var removed = new bool[9];
        removed[0] = true;
        var imputed = NoisyLinearImputation.Impute(image, 1, 3, 3, removed, noise: 0, new Random(1));
        Assert.Equal(0.6f, imputed[0], 6);
        Assert.Equal(image[1..], imputed[1..]);
    }

    [Fact]
    public void Impute_TwoAdjacentPixelsInARow_AreSolvedTogether()
    {
        // 1×4 row [0, ?, ?, 3]: x₁ = (0 + x₂)/2, x₂ = (x₁ + 3)/2 → x₁ = 1, x₂ = 2 (neither is known on its own).
        float[] image = [0, 9, -9, 3];
        var imputed = NoisyLinearImputation.Impute(image, 1, 1, 4, [false, true, true, false], noise: 0, new Random(1));
        TestNets.AssertClose([0f, 1f, 2f, 3f], imputed, 1e-6f);
    }

    [Fact]
    public void Impute_AddsNoiseOfTheGivenSigma_ToTheImputedPixelsOnly()
    {
        var image = Ramp(32);
        var removed = new bool[32 * 32];
        for (int p = 0; p < removed.Length; p++) removed[p] = p % 3 == 0;
        var exact = NoisyLinearImputation.Impute(image, 2, 32, 32, removed, noise: 0, new Random(1));
        var noisy = NoisyLinearImputation.Impute(image, 2, 32, 32, removed, noise: 0.5f, new Random(1));
        var differences = new List<double>();
        for (int i = 0; i < image.Length; i++)
        {
            if (removed[i % (32 * 32)]) differences.Add(noisy[i] - exact[i]);
            else Assert.Equal(image[i], noisy[i]);
        }
        double mean = differences.Average(), sigma = Math.Sqrt(differences.Average(d => (d - mean) * (d - mean)));
        Assert.InRange(sigma, 0.45, 0.55); // 684 draws: the sample σ is within 10% with overwhelming probability
        Assert.InRange(mean, -0.06, 0.06);
    }

    [Fact]
    public void Impute_EveryPixelRemoved_GivesZeros()
    {
        var imputed = NoisyLinearImputation.Impute(Ramp(3), 2, 3, 3, Enumerable.Repeat(true, 9).ToArray(), noise: 0, new Random(1));
        Assert.All(imputed, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void ConjugateGradient_SolvesATwoByTwoSystem()
    {
        // [[4, 1], [1, 3]] x = [1, 2] → x = [1/11, 7/11]
        var x = ConjugateGradient.Solve((v, r) => { r[0] = 4 * v[0] + v[1]; r[1] = v[0] + 3 * v[1]; }, [1, 2]);
        Assert.Equal(1.0 / 11, x[0], 10);
        Assert.Equal(7.0 / 11, x[1], 10);
    }
}
