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
}
