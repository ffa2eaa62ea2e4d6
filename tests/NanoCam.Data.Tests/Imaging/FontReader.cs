using NanoCam.Imaging;

namespace NanoCam.Data.Tests.Imaging;

/// <summary>
/// Reads text drawn with <see cref="BitmapFont"/> back out of an image: a tiny OCR for the tests. It looks for the
/// text origin whose glyph cells all decode to font glyphs and whose re-rendering reproduces every ink pixel exactly.
/// </summary>
public static class FontReader
{
    private static readonly Dictionary<string, char> ByBits = Enumerable.Range(' ', '~' - ' ' + 1)
        .ToDictionary(c => Key(BitmapFont.Rows((char)c)), c => (char)c);

    /// <summary>The lines of text in <paramref name="rect"/> (ink = pixels equal to <paramref name="ink"/>), top to bottom; null when nothing decodes.</summary>
    public static List<string>? ReadLines(RgbImage image, PixelRect rect, Rgb ink, int scale)
    {
        bool Inked(int x, int y) => x >= rect.Left && x < rect.Left + rect.Width && y >= rect.Top && y < rect.Top + rect.Height
            && x < image.Width && y < image.Height && image[x, y] == ink;
        var inked = new List<(int X, int Y)>();
        for (int y = rect.Top; y < rect.Top + rect.Height; y++)
            for (int x = rect.Left; x < rect.Left + rect.Width; x++)
                if (Inked(x, y)) inked.Add((x, y));
        if (inked.Count == 0) return [];
        int top = inked.Min(p => p.Y), bottom = inked.Max(p => p.Y);
        int lineStep = BitmapFont.LineHeight * scale, glyphStep = BitmapFont.Advance * scale;

        for (int dy = 0; dy < BitmapFont.GlyphHeight; dy++)
        {
            int originY = top - dy * scale;
            int lineCount = (bottom - originY) / lineStep + 1;
            var lines = new List<string>();
            var origins = new List<int>();
            for (int l = 0; l < lineCount && lines.Count == l; l++)
            {
                int lineTop = originY + l * lineStep;
                var inLine = inked.Where(p => p.Y >= lineTop && p.Y < lineTop + lineStep).ToList();
                if (inLine.Count == 0) break;
                int left = inLine.Min(p => p.X), right = inLine.Max(p => p.X);
                for (int dx = 0; dx < BitmapFont.GlyphWidth; dx++)
                {
                    int originX = left - dx * scale, count = (right - originX) / glyphStep + 1;
                    var text = new char[count];
                    bool ok = true;
                    for (int i = 0; i < count && ok; i++)
                    {
                        var rows = new byte[BitmapFont.GlyphHeight];
                        for (int r = 0; r < BitmapFont.GlyphHeight; r++)
                            for (int c = 0; c < BitmapFont.GlyphWidth; c++)
                                if (Inked(originX + i * glyphStep + c * scale + scale / 2, lineTop + r * scale + scale / 2))
                                    rows[r] |= (byte)(1 << (BitmapFont.GlyphWidth - 1 - c));
                        ok = ByBits.TryGetValue(Key(rows), out text[i]);
                    }
                    if (!ok) continue;
                    lines.Add(new string(text));
                    origins.Add(originX);
                    break;
                }
            }
            if (lines.Count != lineCount) continue;
            // The decoding must explain every pixel: draw it again and compare the ink.
            var redrawn = new RgbImage(image.Width, image.Height);
            for (int l = 0; l < lines.Count; l++) Draw.Text(redrawn, origins[l], originY + l * lineStep, lines[l], Rgb.White, scale);
            bool same = true;
            for (int y = rect.Top; y < rect.Top + rect.Height && same; y++)
                for (int x = rect.Left; x < rect.Left + rect.Width && same; x++)
                    same = Inked(x, y) == (redrawn[x, y] == Rgb.White);
            if (same) return lines;
        }
        return null;
    }

    /// <summary>The whole text of <paramref name="rect"/>: lines joined directly after a '-', with a space otherwise.</summary>
    public static string? Read(RgbImage image, PixelRect rect, Rgb ink, int scale)
    {
        var lines = ReadLines(image, rect, ink, scale);
        if (lines is null) return null;
        return lines.Skip(1).Aggregate(lines.FirstOrDefault() ?? "", (text, line) => text.EndsWith('-') ? text + line : text + " " + line);
    }

    private static string Key(ReadOnlySpan<byte> rows) => Convert.ToHexString(rows);
}
