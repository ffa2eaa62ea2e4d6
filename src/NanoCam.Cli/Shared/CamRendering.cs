using NanoCam.Imaging;

namespace NanoCam.Cli.Shared;

/// <summary>Heat map over image, with optional boxes (ground truth green, predicted red).</summary>
public static class CamRendering
{
    public static RgbImage Overlay(RgbImage image, float[] normalizedMap, int mapWidth, int mapHeight, string colormap, float alpha = 0.5f,
        Explain.Metrics.Box? truth = null, Explain.Metrics.Box? predicted = null, int scale = 1)
    {
        var big = scale == 1 ? image : Resize.Bilinear(image, image.Width * scale, image.Height * scale);
        var blended = NanoCam.Imaging.Overlay.Blend(big, normalizedMap, mapWidth, mapHeight, ColorMaps.Get(colormap), alpha);
        int thickness = Math.Max(1, scale);
        if (truth is { } t) Draw.Rectangle(blended, t.X0 * scale, t.Y0 * scale, t.X1 * scale - 1, t.Y1 * scale - 1, Rgb.Green, thickness);
        if (predicted is { } p) Draw.Rectangle(blended, p.X0 * scale, p.Y0 * scale, p.X1 * scale - 1, p.Y1 * scale - 1, Rgb.Red, thickness);
        return blended;
    }
}
