using System.Globalization;
using System.Text;
using NanoCam.Imaging;

namespace NanoCam.Cli.Shared;

/// <summary>The small pictures of the walk-through page: maps as heat images and as grids of printed numbers.</summary>
public static class WalkthroughFigures
{
    /// <summary>A scalar as the page prints it (6 significant digits, invariant culture).</summary>
    public static string Number(double value) => value.ToString("G6", CultureInfo.InvariantCulture);

    /// <summary>Decimals that give the largest |value| of a grid three significant digits (0 to 8).</summary>
    public static int Decimals(ReadOnlySpan<float> values)
    {
        float largest = 0f;
        foreach (var v in values) largest = MathF.Max(largest, MathF.Abs(v));
        return largest > 0 ? Math.Clamp(2 - (int)MathF.Floor(MathF.Log10(largest)), 0, 8) : 0;
    }

    /// <summary>A grid cell's number with a fixed number of decimals (one grid, one format).</summary>
    public static string Cell(float value, int decimals) => value.ToString("F" + decimals, CultureInfo.InvariantCulture);

    /// <summary>A range bound or a weight in a caption (3 significant digits).</summary>
    public static string Short(float value) => value.ToString("G3", CultureInfo.InvariantCulture);

    /// <summary>A display scale that makes a side of <paramref name="side"/> pixels about <paramref name="target"/> pixels on screen.</summary>
    public static int Scale(int side, int target) => Math.Max(1, target / Math.Max(side, 1));

    /// <summary>A map [h, w] coloured with (v − low)/(high − low) through the colour map (a flat range gives the lowest colour).</summary>
    public static RgbImage Heat(ReadOnlySpan<float> map, int width, int height, float low, float high, ColorMap colors)
    {
        var scaled = new float[map.Length];
        float range = high - low;
        if (range > 0)
            for (int p = 0; p < map.Length; p++) scaled[p] = (map[p] - low) / range;
        return Overlay.Colorize(scaled, width, height, colors);
    }

    /// <summary>A map coloured over its own range [min, max].</summary>
    public static RgbImage Heat(ReadOnlySpan<float> map, int width, int height, ColorMap colors) =>
        Overlay.Colorize(Overlay.Normalize(map), width, height, colors);

    public static (float Min, float Max) Range(ReadOnlySpan<float> values)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (var v in values) { min = MathF.Min(min, v); max = MathF.Max(max, v); }
        return (min, max);
    }

    /// <summary>
    /// The map [h, w] as an HTML table with every value printed, its cell shaded red for positive and blue for
    /// negative values (white at 0, full colour at the largest |value|).
    /// </summary>
    public static string NumberGrid(ReadOnlySpan<float> map, int width, int height, string caption)
    {
        float largest = 0f;
        foreach (var v in map) largest = MathF.Max(largest, MathF.Abs(v));
        int decimals = Decimals(map);
        var html = new StringBuilder("<table class=\"grid\">");
        html.Append($"<caption>{HtmlPage.Escape(caption)}</caption>");
        for (int y = 0; y < height; y++)
        {
            html.Append("<tr>");
            for (int x = 0; x < width; x++)
            {
                float v = map[y * width + x];
                float t = largest > 0 ? MathF.Abs(v) / largest : 0f;
                var tint = v >= 0 ? new Rgb(0.70f, 0.09f, 0.17f) : new Rgb(0.13f, 0.40f, 0.67f);
                var background = Rgb.Lerp(Rgb.White, tint, t);
                string ink = t > 0.55f ? "#fff" : "#000";
                html.Append($"<td style=\"background:{Hex(background)};color:{ink}\">{Cell(v, decimals)}</td>");
            }
            html.Append("</tr>");
        }
        return html.Append("</table>").ToString();
    }

    /// <summary>An image with a caption of one or more lines, as the markup of one figure.</summary>
    public static string Figure(RgbImage image, int displayScale, params string[] captionLines) =>
        $"<figure>{HtmlPage.ImageTag(image, string.Join(", ", captionLines), displayScale)}" +
        $"<figcaption>{string.Join("<br>", captionLines.Select(HtmlPage.Escape))}</figcaption></figure>";

    private static string Hex(Rgb c) =>
        $"#{(int)MathF.Round(Math.Clamp(c.R, 0f, 1f) * 255):x2}{(int)MathF.Round(Math.Clamp(c.G, 0f, 1f) * 255):x2}{(int)MathF.Round(Math.Clamp(c.B, 0f, 1f) * 255):x2}";
}
