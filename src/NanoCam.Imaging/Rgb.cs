namespace NanoCam.Imaging;

/// <summary>One RGB colour with components in [0, 1].</summary>
public readonly record struct Rgb(float R, float G, float B)
{
    public static Rgb Black => new(0, 0, 0);
    public static Rgb White => new(1, 1, 1);
    public static Rgb Red => new(1, 0, 0);
    public static Rgb Green => new(0, 1, 0);

    /// <summary>Linear interpolation (1 − t)·a + t·b per component.</summary>
    public static Rgb Lerp(Rgb a, Rgb b, float t) => new(a.R + (b.R - a.R) * t, a.G + (b.G - a.G) * t, a.B + (b.B - a.B) * t);
}
