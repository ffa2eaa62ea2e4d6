namespace NanoCam.Imaging;

/// <summary>One RGB colour with components in [0, 1].</summary>
public readonly record struct Rgb(float R, float G, float B)
{
    public static Rgb Black => new(0, 0, 0);
    public static Rgb White => new(1, 1, 1);
    public static Rgb Red => new(1, 0, 0);
    public static Rgb Green => new(0, 1, 0);

    /// <summary>Luminance with ITU-R BT.601 weights (0.299 R + 0.587 G + 0.114 B): how an RGB image feeds a gray model.</summary>
    public static float Luma(float r, float g, float b) => 0.299f * r + 0.587f * g + 0.114f * b;

    /// <summary>Linear interpolation (1 − t)·a + t·b per component.</summary>
    public static Rgb Lerp(Rgb a, Rgb b, float t) => new(a.R + (b.R - a.R) * t, a.G + (b.G - a.G) * t, a.B + (b.B - a.B) * t);
}
