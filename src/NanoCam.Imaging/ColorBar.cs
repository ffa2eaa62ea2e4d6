namespace NanoCam.Imaging;

/// <summary>A colour map drawn as a horizontal gradient with its ends marked 0 and 1: the legend of a heat map.</summary>
public static class ColorBar
{
    /// <summary>Rows of the tick under each end of the bar.</summary>
    public const int TickLength = 4;

    /// <summary>Blank rows between a tick and its label.</summary>
    public const int LabelGap = 2;

    /// <summary>
    /// A <paramref name="width"/>-pixel-wide image on white. Rows [0, <paramref name="barHeight"/>): column x is
    /// colors(x / (width − 1)). Below the bar, black ticks <see cref="TickLength"/> rows long at x = 0 and x = width − 1,
    /// then, <see cref="LabelGap"/> rows lower, "0" starting at x = 0 and "1" ending at x = width − 1 in
    /// <see cref="BitmapFont"/> at <paramref name="textScale"/>.
    /// </summary>
    public static RgbImage Render(ColorMap colors, int width = 256, int barHeight = 18, int textScale = 2)
    {
        ArgumentNullException.ThrowIfNull(colors);
        if (width < 2) throw new ArgumentOutOfRangeException(nameof(width), "a colour bar needs at least 2 columns");
        if (barHeight < 1) throw new ArgumentOutOfRangeException(nameof(barHeight), "the bar needs at least one row");
        int labelTop = LabelTop(barHeight);
        var image = new RgbImage(width, labelTop + BitmapFont.GlyphHeight * textScale);
        Draw.FillRectangle(image, 0, 0, width - 1, image.Height - 1, Rgb.White);
        for (int x = 0; x < width; x++)
            Draw.FillRectangle(image, x, 0, x, barHeight - 1, colors((float)x / (width - 1)));
        Draw.FillRectangle(image, 0, barHeight, 0, barHeight + TickLength - 1, Rgb.Black);
        Draw.FillRectangle(image, width - 1, barHeight, width - 1, barHeight + TickLength - 1, Rgb.Black);
        Draw.Text(image, 0, labelTop, "0", Rgb.Black, textScale);
        Draw.Text(image, width - BitmapFont.Measure("1", textScale).Width, labelTop, "1", Rgb.Black, textScale);
        return image;
    }

    /// <summary>The first row of the "0" and "1" labels under a bar <paramref name="barHeight"/> rows high.</summary>
    public static int LabelTop(int barHeight) => barHeight + TickLength + LabelGap;
}
