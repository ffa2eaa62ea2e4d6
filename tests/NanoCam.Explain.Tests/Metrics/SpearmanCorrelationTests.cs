using NanoCam.Explain.Metrics;

namespace NanoCam.Explain.Tests.Metrics;

/// <summary>Spearman's ρ against rankings worked by hand, ties included.</summary>
public sealed class SpearmanCorrelationTests
{
    [Fact]
    public void Ranks_TiedValues_ShareTheMeanOfTheirPositions()
    {
        Assert.Equal([1, 2.5, 2.5, 4], SpearmanCorrelation.Ranks([10f, 20f, 20f, 30f]));
        Assert.Equal([4, 2, 2, 2], SpearmanCorrelation.Ranks([9f, 1f, 1f, 1f]));
    }

    [Fact]
    public void Rho_WithATie_MatchesTheHandComputation()
    {
        // ranks [1, 2.5, 2.5, 4] and [1, 2, 3, 4], both mean 2.5: Σdxdy = 2.25 + 0 + 0 + 2.25 = 4.5, Σdx² = 4.5,
        // Σdy² = 2.25 + 0.25 + 0.25 + 2.25 = 5 → ρ = 4.5/√22.5 = 3/√10.
        Assert.Equal(3 / Math.Sqrt(10), SpearmanCorrelation.Of([1f, 2f, 2f, 3f], [1f, 2f, 3f, 4f]), 12);
    }

    [Fact]
    public void Rho_IsOne_ForAnIncreasingRelation_AndMinusOne_ForADecreasingOne()
    {
        float[] x = [0.1f, 5f, -2f, 3f, 0f];
        Assert.Equal(1, SpearmanCorrelation.Of(x, x.Select(v => MathF.Exp(v)).ToArray()), 12);
        Assert.Equal(-1, SpearmanCorrelation.Of(x, x.Select(v => -v * v * v).ToArray()), 12);
    }

    [Fact]
    public void Rho_OfAConstantMap_IsZero() => Assert.Equal(0, SpearmanCorrelation.Of([1f, 1f, 1f], [1f, 2f, 3f]));

    [Fact]
    public void Rho_OfAPermutation_MatchesTheClassicFormula()
    {
        // Without ties ρ = 1 − 6 Σ d² / (n (n² − 1)): ranks [1..5] against [2, 1, 4, 3, 5]: Σd² = 4 → ρ = 1 − 24/120 = 0.8.
        Assert.Equal(0.8, SpearmanCorrelation.Of([1f, 2f, 3f, 4f, 5f], [2f, 1f, 4f, 3f, 5f]), 12);
    }
}
