using System.Numerics;

namespace NanoCam.Data;

/// <summary>Signed distance functions (negative inside, in pixels) for the shapes drawn by <see cref="ShapesDataset"/>.</summary>
internal static class ShapeGeometry
{
    /// <summary>Disk: d(p) = |p| − r.</summary>
    public static float Circle(Vector2 p, float radius) => p.Length() - radius;

    /// <summary>Annulus: d(p) = max(|p| − R, r − |p|).</summary>
    public static float Ring(Vector2 p, float outer, float inner)
    {
        float length = p.Length();
        return MathF.Max(length - outer, inner - length);
    }

    /// <summary>Axis-aligned box of half extents h: with q = |p| − h, d = |max(q, 0)| + min(max(qx, qy), 0).</summary>
    public static float Box(Vector2 p, Vector2 half)
    {
        Vector2 q = Vector2.Abs(p) - half;
        return Vector2.Max(q, Vector2.Zero).Length() + MathF.Min(MathF.Max(q.X, q.Y), 0f);
    }

    /// <summary>Plus sign: union (min) of a horizontal and a vertical bar.</summary>
    public static float Cross(Vector2 p, float armLength, float armHalfWidth) =>
        MathF.Min(Box(p, new Vector2(armLength, armHalfWidth)), Box(p, new Vector2(armHalfWidth, armLength)));

    /// <summary>Capsule around segment ab: distance to the segment minus the half thickness.</summary>
    public static float Segment(Vector2 p, Vector2 a, Vector2 b, float halfThickness) => SegmentDistance(p, a, b) - halfThickness;

    /// <summary>
    /// Any simple polygon: the unsigned distance is the minimum over edges of the point–segment distance;
    /// the sign is negative when a ray from p crosses the boundary an odd number of times (even–odd rule).
    /// </summary>
    public static float Polygon(Vector2 p, ReadOnlySpan<Vector2> vertices)
    {
        float distance = float.PositiveInfinity;
        bool inside = false;
        for (int i = 0, j = vertices.Length - 1; i < vertices.Length; j = i++)
        {
            Vector2 a = vertices[j], b = vertices[i];
            distance = MathF.Min(distance, SegmentDistance(p, a, b));
            if ((a.Y > p.Y) != (b.Y > p.Y) && p.X < a.X + (p.Y - a.Y) * (b.X - a.X) / (b.Y - a.Y)) inside = !inside;
        }
        return inside ? -distance : distance;
    }

    /// <summary>Vertices of a regular star (or polygon when inner = outer) with <paramref name="points"/> tips, first tip at angle θ.</summary>
    public static void StarVertices(Span<Vector2> vertices, int points, float outer, float inner, float angle)
    {
        for (int k = 0; k < 2 * points; k++)
        {
            float radius = k % 2 == 0 ? outer : inner;
            float a = angle + MathF.PI * k / points;
            vertices[k] = new Vector2(radius * MathF.Cos(a), radius * MathF.Sin(a));
        }
    }

    /// <summary>Vertices of a regular n-gon of circumradius r, first vertex at angle θ.</summary>
    public static void RegularPolygon(Span<Vector2> vertices, int sides, float radius, float angle)
    {
        for (int k = 0; k < sides; k++)
        {
            float a = angle + 2 * MathF.PI * k / sides;
            vertices[k] = new Vector2(radius * MathF.Cos(a), radius * MathF.Sin(a));
        }
    }

    /// <summary>Rotates p by −θ (into the shape's own frame).</summary>
    public static Vector2 Unrotate(Vector2 p, float cos, float sin) => new(cos * p.X + sin * p.Y, -sin * p.X + cos * p.Y);

    /// <summary>Pixel coverage from a signed distance: a one-pixel linear ramp, c = clamp(½ − d, 0, 1).</summary>
    public static float Coverage(float signedDistance) => Math.Clamp(0.5f - signedDistance, 0f, 1f);

    private static float SegmentDistance(Vector2 p, Vector2 a, Vector2 b)
    {
        // Projection parameter t = clamp((p − a)·(b − a) / |b − a|², 0, 1); distance |p − (a + t(b − a))|.
        Vector2 ab = b - a, ap = p - a;
        float lengthSquared = ab.LengthSquared();
        float t = lengthSquared > 0 ? Math.Clamp(Vector2.Dot(ap, ab) / lengthSquared, 0f, 1f) : 0f;
        return (ap - t * ab).Length();
    }
}
