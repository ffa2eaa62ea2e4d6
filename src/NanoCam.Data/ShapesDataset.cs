using System.Numerics;

namespace NanoCam.Data;

/// <summary>
/// The embedded default dataset: 64×64 RGB scenes generated on demand, each with one target shape (circle, square,
/// triangle, cross, star, ring) of random size, angle, colour and position over a textured, noisy background with
/// small clutter (short lines and dots). The size is the equal-area diameter: every class covers the same range of
/// areas, so the amount of background is no clue to the class. Example i depends only on Hash(seed, i), so any index
/// can be generated alone, on any thread, with identical results.
/// </summary>
public sealed class ShapesDataset : Dataset
{
    /// <summary>Image side in pixels.</summary>
    public const int ImageSide = 64;

    private const int Plane = ImageSide * ImageSide;
    private static readonly string[] Names = ["circle", "square", "triangle", "cross", "star", "ring"];

    // Area of each shape at extent s, as a multiple of s² (the proportions used in RasterizeTarget and BoundingRadius).
    private static readonly float[] AreaPerExtentSquared =
    [
        MathF.PI / 4,                                          // circle of diameter s
        0.8f * 0.8f,                                           // square of side 0.8 s
        3 * MathF.Sqrt(3) / 4 * 0.55f * 0.55f,                 // equilateral triangle, circumradius 0.55 s
        2 * 0.32f - 0.32f * 0.32f,                             // cross: two 1 × 0.32 bars minus their overlap
        5 * 0.55f * (0.45f * 0.55f) * MathF.Sin(MathF.PI / 5), // star: 10 triangles ½·R·r·sin 36°, R = 0.55 s, r = 0.45 R
        MathF.PI * (0.25f - 0.28f * 0.28f),                    // ring: outer radius 0.5 s, inner 0.28 s
    ];

    private readonly long _seed;
    private readonly float _minSize, _maxSize;

    /// <param name="minObjectSize">Smallest target, as the diameter of the disc of equal area (pixels).</param>
    /// <param name="maxObjectSize">Largest target, as the diameter of the disc of equal area (pixels).</param>
    public ShapesDataset(int count, int seed, float minObjectSize = 20, float maxObjectSize = 32)
    {
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count), "count must be positive");
        if (minObjectSize < 8 || maxObjectSize > MaxObjectSize || minObjectSize > maxObjectSize)
            throw new ArgumentOutOfRangeException(nameof(minObjectSize), $"object sizes must satisfy 8 ≤ min ≤ max ≤ {MaxObjectSize}, got {minObjectSize}..{maxObjectSize}");
        Count = count;
        Seed = seed;
        _seed = seed;
        _minSize = minObjectSize;
        _maxSize = maxObjectSize;
    }

    /// <summary>Largest allowed size (equal-area diameter): the thinnest shapes (star, triangle) then still fit the image.</summary>
    public const float MaxObjectSize = 34;

    /// <summary>The class names, in label order.</summary>
    public static IReadOnlyList<string> ShapeNames => Names;

    public int Seed { get; }
    public override int Count { get; }
    public override IReadOnlyList<string> ClassNames => Names;
    public override int Channels => 3;
    public override int Height => ImageSide;
    public override int Width => ImageSide;
    public override string Description => $"shapes ({Count} × 3×{ImageSide}×{ImageSide}, seed {Seed})";

    public override int GetLabel(int index)
    {
        CheckIndex(index);
        var rng = SplitMix64.For(_seed, index);
        return DrawTarget(ref rng).Kind;
    }

    /// <summary>The tight box of the target: every pixel whose centre lies inside the shape (coverage ≥ ½) is inside the box.</summary>
    public override Box? GetBox(int index)
    {
        Span<float> coverage = stackalloc float[Plane];
        GetMask(index, coverage);
        int x0 = ImageSide, y0 = ImageSide, x1 = -1, y1 = -1;
        for (int y = 0; y < ImageSide; y++)
            for (int x = 0; x < ImageSide; x++)
                if (coverage[y * ImageSide + x] >= 0.5f)
                {
                    x0 = Math.Min(x0, x); x1 = Math.Max(x1, x);
                    y0 = Math.Min(y0, y); y1 = Math.Max(y1, y);
                }
        return x1 < 0 ? null : new Box(x0, y0, x1, y1);
    }

    /// <summary>Writes the target's pixel coverage in [0, 1] (H×W, row-major): the ground-truth mask for localization metrics.</summary>
    public void GetMask(int index, Span<float> hw)
    {
        CheckIndex(index);
        if (hw.Length < Plane) throw new ArgumentException($"mask needs {Plane} values", nameof(hw));
        var rng = SplitMix64.For(_seed, index);
        Target target = DrawTarget(ref rng);
        RasterizeTarget(target, hw[..Plane]);
    }

    public override void GetImage(int index, Span<float> chw)
    {
        CheckIndex(index);
        CheckDestination(chw);
        // Draw order is fixed: target geometry first (so GetLabel/GetBox can stop early), then background, clutter, colour, noise.
        var rng = SplitMix64.For(_seed, index);
        Target target = DrawTarget(ref rng);
        Span<float> coverage = stackalloc float[Plane];
        RasterizeTarget(target, coverage);

        Vector3 baseColor = new(rng.NextFloat(0.1f, 0.9f), rng.NextFloat(0.1f, 0.9f), rng.NextFloat(0.1f, 0.9f));
        PaintBackground(ref rng, baseColor, chw);

        int clutter = rng.NextInt(2, 6);
        for (int k = 0; k < clutter; k++) PaintClutter(ref rng, chw);

        Vector3 objectColor = ContrastingColor(ref rng, baseColor);
        for (int p = 0; p < Plane; p++)
        {
            float a = coverage[p];
            if (a <= 0) continue;
            // Alpha compositing: out = (1 − a)·background + a·colour.
            chw[p] += (objectColor.X - chw[p]) * a;
            chw[Plane + p] += (objectColor.Y - chw[Plane + p]) * a;
            chw[2 * Plane + p] += (objectColor.Z - chw[2 * Plane + p]) * a;
        }

        // Sensor noise: independent uniform values in [−n, n] per pixel and channel, then clamp to [0, 1].
        float noise = rng.NextFloat(0.02f, 0.07f);
        ulong noiseKey = rng.NextUInt64();
        for (int i = 0; i < 3 * Plane; i++)
            chw[i] = Math.Clamp(chw[i] + noise * (2 * CounterRng.Uniform(noiseKey, (ulong)i) - 1), 0f, 1f);
    }

    private readonly record struct Target(int Kind, Vector2 Center, float Extent, float Angle);

    private Target DrawTarget(ref SplitMix64 rng)
    {
        int kind = rng.NextInt(Names.Length);
        // Equal area π/4·size² = AreaPerExtentSquared·extent²  ⇒  extent = size·√(π/4 / AreaPerExtentSquared).
        float size = rng.NextFloat(_minSize, _maxSize);
        float extent = size * MathF.Sqrt(MathF.PI / 4 / AreaPerExtentSquared[kind]);
        float angle = rng.NextFloat(0, 2 * MathF.PI);
        float reach = BoundingRadius(kind, extent) + 1;
        var center = new Vector2(rng.NextFloat(reach, ImageSide - reach), rng.NextFloat(reach, ImageSide - reach));
        return new Target(kind, center, extent, angle);
    }

    // Farthest point of each shape from its centre, for extent s (the proportions used in TargetDistance).
    private static float BoundingRadius(int kind, float s) => kind switch
    {
        1 => 0.4f * MathF.Sqrt(2) * s,                  // square, half side 0.4 s
        2 or 4 => 0.55f * s,                             // triangle, star: circumradius 0.55 s
        3 => MathF.Sqrt(0.5f * 0.5f + 0.16f * 0.16f) * s, // cross: arm half-length 0.5 s, half-width 0.16 s
        _ => 0.5f * s,                                   // circle, ring
    };

    private static void RasterizeTarget(in Target target, Span<float> coverage)
    {
        coverage.Clear();
        float s = target.Extent, cos = MathF.Cos(target.Angle), sin = MathF.Sin(target.Angle);
        Span<Vector2> polygon = stackalloc Vector2[10];
        int vertices = 0;
        if (target.Kind == 2) { ShapeGeometry.RegularPolygon(polygon, 3, 0.55f * s, target.Angle); vertices = 3; }
        if (target.Kind == 4) { ShapeGeometry.StarVertices(polygon, 5, 0.55f * s, 0.45f * 0.55f * s, target.Angle); vertices = 10; }
        float ringInner = 0.5f * s - MathF.Max(2.5f, 0.22f * s);

        float reach = BoundingRadius(target.Kind, s) + 1;
        int left = Math.Max(0, (int)(target.Center.X - reach)), right = Math.Min(ImageSide - 1, (int)(target.Center.X + reach));
        int top = Math.Max(0, (int)(target.Center.Y - reach)), bottom = Math.Min(ImageSide - 1, (int)(target.Center.Y + reach));
        for (int y = top; y <= bottom; y++)
            for (int x = left; x <= right; x++)
            {
                Vector2 p = new Vector2(x + 0.5f, y + 0.5f) - target.Center;
                float distance = target.Kind switch
                {
                    0 => ShapeGeometry.Circle(p, 0.5f * s),
                    1 => ShapeGeometry.Box(ShapeGeometry.Unrotate(p, cos, sin), new Vector2(0.4f * s)),
                    3 => ShapeGeometry.Cross(ShapeGeometry.Unrotate(p, cos, sin), 0.5f * s, 0.16f * s),
                    5 => ShapeGeometry.Ring(p, 0.5f * s, ringInner),
                    _ => ShapeGeometry.Polygon(p, polygon[..vertices]),
                };
                coverage[y * ImageSide + x] = ShapeGeometry.Coverage(distance);
            }
    }

    // base + ramp·((x, y) − centre)·(cos φ, sin φ)/64 + Σ_j amplitude_j·sin(2π f_j·(x, y)/64 + phase_j): a slow colour ramp
    // under two crossed plane waves of 3–8 cycles per image, so that flat colour means an object, never the background.
    private static void PaintBackground(ref SplitMix64 rng, Vector3 baseColor, Span<float> chw)
    {
        Vector3 ramp = new(rng.NextFloat(-0.3f, 0.3f), rng.NextFloat(-0.3f, 0.3f), rng.NextFloat(-0.3f, 0.3f));
        float rampAngle = rng.NextFloat(0, 2 * MathF.PI);
        float rx = MathF.Cos(rampAngle) / ImageSide, ry = MathF.Sin(rampAngle) / ImageSide;
        Span<Vector3> amplitude = stackalloc Vector3[2];
        Span<Vector2> frequency = stackalloc Vector2[2];
        Span<float> phase = stackalloc float[2];
        float direction = rng.NextFloat(0, MathF.PI);
        for (int j = 0; j < 2; j++)
        {
            amplitude[j] = new(rng.NextFloat(0.04f, 0.12f), rng.NextFloat(0.04f, 0.12f), rng.NextFloat(0.04f, 0.12f));
            float cycles = rng.NextFloat(3, 8), angle = direction + j * MathF.PI / 2 + rng.NextFloat(-0.4f, 0.4f);
            frequency[j] = 2 * MathF.PI * cycles / ImageSide * new Vector2(MathF.Cos(angle), MathF.Sin(angle));
            phase[j] = rng.NextFloat(0, 2 * MathF.PI);
        }
        for (int y = 0; y < ImageSide; y++)
            for (int x = 0; x < ImageSide; x++)
            {
                float t = (x - 31.5f) * rx + (y - 31.5f) * ry;
                Vector3 value = baseColor + ramp * t
                    + amplitude[0] * MathF.Sin(frequency[0].X * x + frequency[0].Y * y + phase[0])
                    + amplitude[1] * MathF.Sin(frequency[1].X * x + frequency[1].Y * y + phase[1]);
                int p = y * ImageSide + x;
                chw[p] = value.X;
                chw[Plane + p] = value.Y;
                chw[2 * Plane + p] = value.Z;
            }
    }

    // One distractor: a short thin line (length 4–12 px) or a small dot (radius 1–2.2 px) of random colour.
    private static void PaintClutter(ref SplitMix64 rng, Span<float> chw)
    {
        bool line = rng.NextInt(2) == 0;
        var color = new Vector3(rng.NextFloat(), rng.NextFloat(), rng.NextFloat());
        var a = new Vector2(rng.NextFloat(0, ImageSide), rng.NextFloat(0, ImageSide));
        float length = rng.NextFloat(4, 12), angle = rng.NextFloat(0, 2 * MathF.PI);
        float size = line ? rng.NextFloat(0.5f, 1.0f) : rng.NextFloat(1f, 2.2f);
        Vector2 b = line ? a + length * new Vector2(MathF.Cos(angle), MathF.Sin(angle)) : a;

        int left = Math.Max(0, (int)(MathF.Min(a.X, b.X) - size - 1)), right = Math.Min(ImageSide - 1, (int)(MathF.Max(a.X, b.X) + size + 1));
        int top = Math.Max(0, (int)(MathF.Min(a.Y, b.Y) - size - 1)), bottom = Math.Min(ImageSide - 1, (int)(MathF.Max(a.Y, b.Y) + size + 1));
        for (int y = top; y <= bottom; y++)
            for (int x = left; x <= right; x++)
            {
                float c = ShapeGeometry.Coverage(ShapeGeometry.Segment(new Vector2(x + 0.5f, y + 0.5f), a, b, size));
                if (c <= 0) continue;
                int p = y * ImageSide + x;
                chw[p] += (color.X - chw[p]) * c;
                chw[Plane + p] += (color.Y - chw[Plane + p]) * c;
                chw[2 * Plane + p] += (color.Z - chw[2 * Plane + p]) * c;
            }
    }

    // A random colour at Euclidean distance ≥ 0.5 from the background's base colour (falls back to the per-channel opposite).
    private static Vector3 ContrastingColor(ref SplitMix64 rng, Vector3 baseColor)
    {
        for (int attempt = 0; attempt < 32; attempt++)
        {
            var candidate = new Vector3(rng.NextFloat(), rng.NextFloat(), rng.NextFloat());
            if (Vector3.Distance(candidate, baseColor) >= 0.5f) return candidate;
        }
        return new Vector3(Opposite(baseColor.X), Opposite(baseColor.Y), Opposite(baseColor.Z));
    }

    private static float Opposite(float v) => v > 0.5f ? v - 0.5f : v + 0.5f;
}
