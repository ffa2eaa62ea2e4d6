using NanoCam.Explain.Metrics;

namespace NanoCam.Explain.Tests.Metrics;

/// <summary>Sparseness (Gini index) and entropy of maps whose values are known in closed form.</summary>
public sealed class ComplexityTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(100)]
    public void Sparseness_IsZero_WhenAllValuesAreEqual(int n) =>
        Assert.Equal(0, Complexity.Sparseness(Enumerable.Repeat(0.7f, n).ToArray()), 12);

    [Theory]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(4096)]
    public void Sparseness_IsOneMinusOneOverN_ForAOneHotMap(int n)
    {
        var map = new float[n];
        map[n / 2] = 3f;
        Assert.Equal(1 - 1.0 / n, Complexity.Sparseness(map), 12);
    }

    [Fact]
    public void Sparseness_OfZeroOneTwoThree_MatchesTheHandComputation_AndIgnoresSigns()
    {
        // sorted [0, 1, 2, 3], n = 4, Σ = 6, coefficients 2i − n − 1 = −3, −1, 1, 3: (0 − 1 + 2 + 9) / (4·6) = 10/24
        Assert.Equal(10.0 / 24, Complexity.Sparseness([0f, 1f, 2f, 3f]), 12);
        Assert.Equal(10.0 / 24, Complexity.Sparseness([-3f, 0f, 2f, -1f]), 12);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4096)]
    public void Entropy_OfAUniformMap_IsLogN(int n) =>
        Assert.Equal(Math.Log(n), Complexity.Entropy(Enumerable.Repeat(0.25f, n).ToArray()), 10);

    [Fact]
    public void Entropy_OfOneHotAndOfAQuarterQuarterHalfMap_MatchTheHandComputation()
    {
        Assert.Equal(0, Complexity.Entropy([0f, 0f, 5f, 0f]), 12);
        // p = [¼, ¼, ½]: H = 2·¼·ln 4 + ½·ln 2 = 1.5 ln 2
        Assert.Equal(1.5 * Math.Log(2), Complexity.Entropy([1f, -1f, 2f]), 12);
    }

    [Fact]
    public void AZeroMap_IsScoredAsUniform()
    {
        Assert.Equal(0, Complexity.Sparseness(new float[8]));
        Assert.Equal(Math.Log(8), Complexity.Entropy(new float[8]), 12);
    }
}
