namespace NanoCam.Explain.Metrics;

/// <summary>
/// The pointing game (Zhang et al. 2016, Excitation Backprop, Sec. 5.1): a map scores a hit when its maximum lies on
/// the object, within a tolerance. Zhang et al. allow 15 px on PASCAL VOC / COCO images, whose longer side is about
/// 500 px; we keep the same fraction of the image, tolerance = 15·max(H, W)/500 (1.92 px at 64×64, 6.72 px at 224×224).
/// A hit: the Euclidean distance from the maximum pixel to the nearest pixel of the box is at most the tolerance.
/// When several pixels share the maximum, the first in raster order points (a flat map points at the top-left corner).
/// </summary>
public static class PointingGame
{
    /// <summary>Zhang et al.'s tolerance in pixels, and the image side it was measured at.</summary>
    public const double OriginalTolerance = 15, OriginalImageSide = 500;

    /// <summary>15 px at 500 px, scaled to the image: 15·max(H, W)/500.</summary>
    public static double ScaledTolerance(int height, int width) => OriginalTolerance * Math.Max(height, width) / OriginalImageSide;

    /// <summary>(x, y) of the map's maximum, the first in raster order on ties.</summary>
    public static (int X, int Y) MaximumPoint(ReadOnlySpan<float> map, int height, int width)
    {
        if (map.Length != height * width) throw new ArgumentException($"the map has {map.Length} values, not {height}×{width}");
        int best = 0;
        for (int p = 1; p < map.Length; p++) if (map[p] > map[best]) best = p;
        return (best % width, best / width);
    }

    /// <summary>Whether the map's maximum falls within <paramref name="tolerance"/> px of <paramref name="truth"/>.</summary>
    public static bool IsHit(ReadOnlySpan<float> map, int height, int width, Box truth, double tolerance) =>
        IsHit(MaximumPoint(map, height, width), truth, tolerance);

    /// <summary>Whether pixel <paramref name="point"/> is within <paramref name="tolerance"/> px of the half-open box.</summary>
    public static bool IsHit((int X, int Y) point, Box truth, double tolerance)
    {
        int dx = Math.Max(0, Math.Max(truth.X0 - point.X, point.X - (truth.X1 - 1)));
        int dy = Math.Max(0, Math.Max(truth.Y0 - point.Y, point.Y - (truth.Y1 - 1)));
        return (double)dx * dx + (double)dy * dy <= tolerance * tolerance;
    }
}
