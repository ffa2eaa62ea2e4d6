using NanoCam.Explain.Metrics;

namespace NanoCam.Explain.Tests.Metrics;

/// <summary>The pointing game: inside, outside, and on the edge of the tolerance.</summary>
public sealed class PointingGameTests
{
    // Half-open box: columns 4..7, rows 4..7.
    private static readonly Box Truth = new(4, 4, 8, 8);

    [Theory]
    [InlineData(5, 5, 0, true)]    // inside
    [InlineData(4, 7, 0, true)]    // on the box's corner pixels
    [InlineData(7, 4, 0, true)]
    [InlineData(8, 5, 0, false)]   // one column right of the box, no tolerance
    [InlineData(9, 5, 2, true)]    // two columns right: distance 2 = tolerance
    [InlineData(10, 5, 2, false)]  // three columns right
    [InlineData(9, 9, 2, false)]   // diagonal (2, 2): √8 > 2
    [InlineData(9, 8, 2.5, true)]  // diagonal (2, 1): √5 ≤ 2.5
    [InlineData(2, 1, 4, true)]    // above-left: (2, 3), distance √13 ≤ 4
    public void Hit_IsTheDistanceToTheBox_WithinTheTolerance(int x, int y, double tolerance, bool hit)
    {
        Assert.Equal(hit, PointingGame.IsHit((x, y), Truth, tolerance));
    }

    [Fact]
    public void TheMapsMaximum_Points()
    {
        var map = new float[12 * 12];
        map[6 * 12 + 5] = 1f; // (5, 6): inside
        Assert.Equal((5, 6), PointingGame.MaximumPoint(map, 12, 12));
        Assert.True(PointingGame.IsHit(map, 12, 12, Truth, 0));
        map[1 * 12 + 11] = 2f; // (11, 1): far outside, now the maximum
        Assert.False(PointingGame.IsHit(map, 12, 12, Truth, PointingGame.ScaledTolerance(12, 12)));
    }

    [Fact]
    public void Ties_PointAtTheFirstInRasterOrder()
    {
        var map = new float[4 * 4];
        map[9] = map[6] = 1f;
        Assert.Equal((2, 1), PointingGame.MaximumPoint(map, 4, 4));
    }

    [Fact]
    public void Tolerance_Is15PxAt500Px_ScaledToTheImage()
    {
        Assert.Equal(15, PointingGame.ScaledTolerance(375, 500), 10);
        Assert.Equal(1.92, PointingGame.ScaledTolerance(64, 64), 10);
    }
}
