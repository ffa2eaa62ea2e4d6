namespace NanoCam.Imaging;

/// <summary>Blends a heat map (e.g. a CAM) over an image through a colour map.</summary>
public static class Overlay
{
    /// <summary>
    /// out = (1 − α·w)·image + α·w·colormap(m), where m is the map value at the pixel (bilinearly resized to the image
    /// if its size differs) and w = 1; α = 0 returns the image, α = 1 the coloured map.
    /// </summary>
    public static RgbImage Blend(RgbImage image, float[] map, int mapWidth, int mapHeight, ColorMap colormap, float alpha = 0.5f)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (map.Length != mapWidth * mapHeight) throw new ArgumentException($"map holds {map.Length} values, not {mapWidth}×{mapHeight}", nameof(map));
        float[] resized = mapWidth == image.Width && mapHeight == image.Height ? map : Resize.Map(map, mapWidth, mapHeight, image.Width, image.Height);
        var result = new RgbImage(image.Width, image.Height);
        float a = Math.Clamp(alpha, 0f, 1f);
        for (int p = 0; p < resized.Length; p++)
        {
            Rgb heat = colormap(resized[p]);
            int o = p * 3;
            result.Pixels[o] = (1 - a) * image.Pixels[o] + a * heat.R;
            result.Pixels[o + 1] = (1 - a) * image.Pixels[o + 1] + a * heat.G;
            result.Pixels[o + 2] = (1 - a) * image.Pixels[o + 2] + a * heat.B;
        }
        return result;
    }

    /// <summary>Blend with a map already at the image's size (H×W values).</summary>
    public static RgbImage Blend(RgbImage image, float[] map, ColorMap colormap, float alpha = 0.5f) =>
        Blend(image, map, image.Width, image.Height, colormap, alpha);

    /// <summary>The map alone, coloured: colormap(m) at every pixel.</summary>
    public static RgbImage Colorize(float[] map, int width, int height, ColorMap colormap)
    {
        if (map.Length != width * height) throw new ArgumentException($"map holds {map.Length} values, not {width}×{height}", nameof(map));
        var result = new RgbImage(width, height);
        for (int p = 0; p < map.Length; p++) result[p % width, p / width] = colormap(map[p]);
        return result;
    }

    /// <summary>Min-max normalization m' = (m − min)/(max − min) (all zeros when the map is constant).</summary>
    public static float[] Normalize(ReadOnlySpan<float> map)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (float v in map) { min = MathF.Min(min, v); max = MathF.Max(max, v); }
        var result = new float[map.Length];
        float range = max - min;
        if (range > 0 && float.IsFinite(range))
            for (int i = 0; i < map.Length; i++) result[i] = (map[i] - min) / range;
        return result;
    }
}
