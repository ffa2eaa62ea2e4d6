namespace NanoCam.Imaging;

/// <summary>Tiles images into a grid with a gap between cells, for side-by-side comparisons.</summary>
public static class Montage
{
    /// <summary>
    /// Places image i at row i / columns, column i % columns; every cell is as large as the largest image, images are
    /// top-left aligned in their cells, and cells are separated by <paramref name="gap"/> pixels of <paramref name="background"/>.
    /// </summary>
    public static RgbImage Grid(IReadOnlyList<RgbImage> images, int columns, int gap = 4, Rgb? background = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0) throw new ArgumentException("a montage needs at least one image", nameof(images));
        if (columns <= 0) throw new ArgumentOutOfRangeException(nameof(columns), "columns must be positive");
        if (gap < 0) throw new ArgumentOutOfRangeException(nameof(gap), "gap cannot be negative");
        columns = Math.Min(columns, images.Count);
        int rows = (images.Count + columns - 1) / columns;
        int cellWidth = images.Max(i => i.Width), cellHeight = images.Max(i => i.Height);
        var result = new RgbImage(columns * cellWidth + (columns - 1) * gap, rows * cellHeight + (rows - 1) * gap);
        Draw.FillRectangle(result, 0, 0, result.Width - 1, result.Height - 1, background ?? Rgb.White);
        for (int i = 0; i < images.Count; i++)
        {
            int left = (i % columns) * (cellWidth + gap), top = (i / columns) * (cellHeight + gap);
            RgbImage tile = images[i];
            for (int y = 0; y < tile.Height; y++)
                tile.Pixels.AsSpan(y * tile.Width * 3, tile.Width * 3).CopyTo(result.Pixels.AsSpan(((top + y) * result.Width + left) * 3));
        }
        return result;
    }

    /// <summary>One row: all images side by side.</summary>
    public static RgbImage Row(IReadOnlyList<RgbImage> images, int gap = 4, Rgb? background = null) =>
        Grid(images, images.Count, gap, background);
}
