namespace NanoCam.Imaging;

/// <summary>Simple in-place drawing on an <see cref="RgbImage"/>.</summary>
public static class Draw
{
    /// <summary>
    /// Draws the outline of the box with inclusive corners (x0, y0) and (x1, y1), <paramref name="thickness"/> pixels
    /// wide, growing inwards; parts outside the image are clipped.
    /// </summary>
    public static void Rectangle(RgbImage image, int x0, int y0, int x1, int y1, Rgb color, int thickness = 1)
    {
        if (x1 < x0) (x0, x1) = (x1, x0);
        if (y1 < y0) (y0, y1) = (y1, y0);
        int t = Math.Max(1, thickness);
        FillRectangle(image, x0, y0, x1, Math.Min(y1, y0 + t - 1), color);
        FillRectangle(image, x0, Math.Max(y0, y1 - t + 1), x1, y1, color);
        FillRectangle(image, x0, y0, Math.Min(x1, x0 + t - 1), y1, color);
        FillRectangle(image, Math.Max(x0, x1 - t + 1), y0, x1, y1, color);
    }

    /// <summary>Fills the box with inclusive corners (x0, y0), (x1, y1), clipped to the image.</summary>
    public static void FillRectangle(RgbImage image, int x0, int y0, int x1, int y1, Rgb color)
    {
        int left = Math.Max(0, Math.Min(x0, x1)), right = Math.Min(image.Width - 1, Math.Max(x0, x1));
        int top = Math.Max(0, Math.Min(y0, y1)), bottom = Math.Min(image.Height - 1, Math.Max(y0, y1));
        for (int y = top; y <= bottom; y++)
            for (int x = left; x <= right; x++)
                image[x, y] = color;
    }

    /// <summary>
    /// Draws <paramref name="text"/> on one line in <see cref="BitmapFont"/> with its top-left corner at (x, y): the lit
    /// pixel (column, row) of the i-th character fills the <paramref name="scale"/>×<paramref name="scale"/> block at
    /// (x + (i·Advance + column)·scale, y + row·scale); unlit pixels keep the image's colour; parts outside it are clipped.
    /// </summary>
    public static void Text(RgbImage image, int x, int y, string text, Rgb color, int scale = 1)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (scale < 1) throw new ArgumentOutOfRangeException(nameof(scale), "scale must be at least 1");
        for (int i = 0; i < text.Length; i++)
        {
            var rows = BitmapFont.Rows(text[i]);
            int left = x + i * BitmapFont.Advance * scale;
            for (int row = 0; row < BitmapFont.GlyphHeight; row++)
                for (int column = 0; column < BitmapFont.GlyphWidth; column++)
                    if ((rows[row] >> (BitmapFont.GlyphWidth - 1 - column) & 1) != 0)
                        FillRectangle(image, left + column * scale, y + row * scale, left + column * scale + scale - 1, y + row * scale + scale - 1, color);
        }
    }
}
