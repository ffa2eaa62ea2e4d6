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

    /// <summary>Colour of a label strip behind its text.</summary>
    public static Rgb LabelBackground => new(0.92f, 0.92f, 0.92f);

    /// <summary>
    /// A grid of labelled panels people can read: image i, upscaled by nearest neighbour with the integer factor
    /// ⌈<paramref name="minPanelSize"/> / its shorter side⌉ (at least 1), sits under a grey strip that names it with
    /// <paramref name="labels"/>[i] in <see cref="BitmapFont"/> at <paramref name="textScale"/> (wrapped after '-' and at
    /// spaces where a line would be wider than the cell); <paramref name="title"/>, when given, is one line above the grid. Cells are as wide as
    /// the widest panel or label line, panels and label lines are centred in them (lines vertically too), and <paramref name="gap"/> pixels of
    /// white separate cells and frame the whole.
    /// </summary>
    public static LabelledMontage Labelled(IReadOnlyList<RgbImage> images, IReadOnlyList<string> labels, int columns, string? title = null,
        int minPanelSize = 128, int textScale = 2, int gap = 6)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        if (images.Count == 0) throw new ArgumentException("a montage needs at least one image", nameof(images));
        if (labels.Count != images.Count) throw new ArgumentException($"{images.Count} images need {images.Count} labels, got {labels.Count}", nameof(labels));
        if (columns <= 0) throw new ArgumentOutOfRangeException(nameof(columns), "columns must be positive");
        if (minPanelSize < 1) throw new ArgumentOutOfRangeException(nameof(minPanelSize), "the panel size must be positive");
        if (textScale < 1) throw new ArgumentOutOfRangeException(nameof(textScale), "the text scale must be at least 1");
        if (gap < 0) throw new ArgumentOutOfRangeException(nameof(gap), "gap cannot be negative");
        columns = Math.Min(columns, images.Count);
        int rows = (images.Count + columns - 1) / columns;
        int padding = 3 * textScale, lineStep = BitmapFont.LineHeight * textScale, textHeight = BitmapFont.GlyphHeight * textScale;

        var panels = images.Select(image =>
        {
            int shorter = Math.Min(image.Width, image.Height);
            return Resize.Nearest(image, Math.Max(1, (minPanelSize + shorter - 1) / shorter));
        }).ToArray();
        // Wrapped to its panel, the widest line sets the cell width; wrapped again to the cell, no label breaks needlessly.
        var lines = labels.Select((label, i) => Wrap(label ?? "", panels[i].Width - 2 * padding, textScale)).ToArray();
        int cellWidth = Math.Max(panels.Max(p => p.Width), lines.SelectMany(l => l).Max(l => BitmapFont.Measure(l, textScale).Width) + 2 * padding);
        lines = [.. labels.Select(label => Wrap(label ?? "", cellWidth - 2 * padding, textScale))];
        int stripHeight = lines.Max(l => l.Count) * lineStep - textScale + 2 * padding;
        int cellHeight = stripHeight + panels.Max(p => p.Height);
        int titleHeight = title is null ? 0 : textHeight + 2 * padding;
        int gridWidth = columns * cellWidth + (columns - 1) * gap;
        int width = Math.Max(gridWidth, title is null ? 0 : BitmapFont.Measure(title, textScale).Width) + 2 * gap;
        int gridTop = gap + (title is null ? 0 : titleHeight + gap);
        int height = gridTop + rows * cellHeight + (rows - 1) * gap + gap;

        var result = new RgbImage(width, height);
        Draw.FillRectangle(result, 0, 0, width - 1, height - 1, Rgb.White);
        PixelRect? titleStrip = null;
        if (title is not null)
        {
            titleStrip = new PixelRect(gap, gap, width - 2 * gap, titleHeight);
            Draw.Text(result, gap, gap + padding, title, Rgb.Black, textScale);
        }
        var panelRects = new PixelRect[panels.Length];
        var stripRects = new PixelRect[panels.Length];
        for (int i = 0; i < panels.Length; i++)
        {
            int left = gap + (i % columns) * (cellWidth + gap), top = gridTop + (i / columns) * (cellHeight + gap);
            stripRects[i] = new PixelRect(left, top, cellWidth, stripHeight);
            Draw.FillRectangle(result, left, top, left + cellWidth - 1, top + stripHeight - 1, LabelBackground);
            int textTop = top + (stripHeight - (lines[i].Count * lineStep - textScale)) / 2;
            for (int l = 0; l < lines[i].Count; l++)
                Draw.Text(result, left + (cellWidth - BitmapFont.Measure(lines[i][l], textScale).Width) / 2, textTop + l * lineStep, lines[i][l], Rgb.Black, textScale);
            RgbImage panel = panels[i];
            panelRects[i] = new PixelRect(left + (cellWidth - panel.Width) / 2, top + stripHeight, panel.Width, panel.Height);
            for (int y = 0; y < panel.Height; y++)
                panel.Pixels.AsSpan(y * panel.Width * 3, panel.Width * 3)
                    .CopyTo(result.Pixels.AsSpan(((panelRects[i].Top + y) * width + panelRects[i].Left) * 3));
        }
        return new LabelledMontage(result, panelRects, stripRects, titleStrip);
    }

    /// <summary>Greedy line breaking after '-' and at spaces; a piece wider than <paramref name="maxWidth"/> keeps a line of its own.</summary>
    private static List<string> Wrap(string text, int maxWidth, int scale)
    {
        var pieces = new List<string>();
        int start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '-') { pieces.Add(text[start..(i + 1)]); start = i + 1; }
            else if (text[i] == ' ' && i > start) { pieces.Add(text[start..i]); start = i; }
        }
        if (start < text.Length || pieces.Count == 0) pieces.Add(text[start..]);
        var lines = new List<string>();
        string line = "";
        foreach (string piece in pieces)
        {
            if (line.Length > 0 && BitmapFont.Measure(line + piece, scale).Width > maxWidth)
            {
                lines.Add(line);
                line = piece.TrimStart();
            }
            else line += line.Length == 0 ? piece.TrimStart() : piece;
        }
        lines.Add(line);
        return lines;
    }
}

/// <summary>A labelled montage and where its parts lie: one rectangle per panel and per label strip (in input order), and the title strip.</summary>
public sealed record LabelledMontage(RgbImage Image, IReadOnlyList<PixelRect> Panels, IReadOnlyList<PixelRect> LabelStrips, PixelRect? TitleStrip);

/// <summary>A rectangle of pixels: its top-left corner and its size.</summary>
public readonly record struct PixelRect(int Left, int Top, int Width, int Height);
