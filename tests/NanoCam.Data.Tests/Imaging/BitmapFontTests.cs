using NanoCam.Imaging;

namespace NanoCam.Data.Tests.Imaging;

/// <summary>The bitmap font and <see cref="Draw.Text"/>: exactly the table's pixels at every scale, the designed shapes, one glyph per character, text that reads back.</summary>
public class BitmapFontTests
{
    private static readonly Rgb Paper = new(0.2f, 0.4f, 0.6f), Ink = new(1f, 0.9f, 0.1f);

    private static string PrintableAscii => new([.. Enumerable.Range(' ', '~' - ' ' + 1).Select(c => (char)c)]);

    private static RgbImage Canvas(int width, int height)
    {
        var image = new RgbImage(width, height);
        Draw.FillRectangle(image, 0, 0, width - 1, height - 1, Paper);
        return image;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Text_InksExactlyTheScaledBlocksThatTheFontTableLights_AndNothingElse(int scale)
    {
        string text = PrintableAscii;
        const int x0 = 7, y0 = 5;
        var image = Canvas(x0 + BitmapFont.Measure(text, scale).Width + 9, y0 + BitmapFont.GlyphHeight * scale + 6);
        Draw.Text(image, x0, y0, text, Ink, scale);
        for (int y = 0; y < image.Height; y++)
            for (int x = 0; x < image.Width; x++)
            {
                int u = x - x0, v = y - y0;
                int glyph = u >= 0 ? u / (BitmapFont.Advance * scale) : -1;
                int column = u >= 0 ? u % (BitmapFont.Advance * scale) / scale : -1, row = v >= 0 ? v / scale : -1;
                bool lit = glyph >= 0 && glyph < text.Length && BitmapFont.IsLit(text[glyph], column, row);
                Assert.True(image[x, y] == (lit ? Ink : Paper), $"pixel ({x}, {y}): glyph {glyph}, column {column}, row {row}");
            }
    }

    [Fact]
    public void Glyphs_A_g_And_Plus_AreTheDesignedShapes()
    {
        // The designs, written out here independently of the font table: 'A', 'g' (with its descender row) and '+'.
        string[] expected =
        [
            ".###. ..... .....",
            "#...# ..... ..#..",
            "#...# .#### ..#..",
            "##### #...# #####",
            "#...# #...# ..#..",
            "#...# .#### ..#..",
            "#...# ....# .....",
            "..... .###. .....",
        ];
        var image = Canvas(BitmapFont.Measure("Ag+", 1).Width, BitmapFont.GlyphHeight);
        Draw.Text(image, 0, 0, "Ag+", Ink);
        for (int row = 0; row < BitmapFont.GlyphHeight; row++)
        {
            string drawn = new([.. Enumerable.Range(0, image.Width).Select(x => image[x, row] == Ink ? '#' : '.')]);
            Assert.Equal(expected[row].Replace(' ', '.'), drawn);
        }
    }

    [Fact]
    public void EveryPrintableAsciiCharacter_HasAGlyphOfItsOwn_AndOthersDrawAsAHollowBox()
    {
        var glyphs = PrintableAscii.Select(c => Convert.ToHexString(BitmapFont.Rows(c))).ToList();
        Assert.Equal(95, glyphs.Count);
        Assert.Equal(glyphs.Count, glyphs.Distinct().Count());
        Assert.All(PrintableAscii.Skip(1), c => Assert.Contains(BitmapFont.Rows(c).ToArray(), row => row != 0));
        Assert.All(BitmapFont.Rows(' ').ToArray(), row => Assert.Equal(0, row));
        string box = Convert.ToHexString(BitmapFont.Rows('×'));
        Assert.False(BitmapFont.HasGlyph('×'));
        Assert.Equal(box, Convert.ToHexString(BitmapFont.Rows('\n')));
        Assert.DoesNotContain(box, glyphs);
        Assert.Equal("1F11111111111F00", box); // a 5×7 outline, blank descender row
    }

    [Fact]
    public void DifferentStrings_DrawDifferentPixels_AndEachReadsBackAsItself()
    {
        string[] names = ["gradcam", "gradcam++", "xgradcam", "layercam", "scorecam", "sscam", "iscam", "eigencam", "class 7 (seven)", "IoU 0.49"];
        const int scale = 2;
        var drawn = names.Select(name =>
        {
            var image = Canvas(220, 24);
            Draw.Text(image, 4, 3, name, Ink, scale);
            return image;
        }).ToArray();
        for (int i = 0; i < names.Length; i++)
        {
            Assert.Equal(names[i], FontReader.Read(drawn[i], new PixelRect(0, 0, 220, 24), Ink, scale));
            for (int j = i + 1; j < names.Length; j++) Assert.NotEqual(drawn[i].Pixels, drawn[j].Pixels);
        }
        var again = Canvas(220, 24);
        Draw.Text(again, 4, 3, names[0], Ink, scale);
        Assert.Equal(drawn[0].Pixels, again.Pixels);
    }

    [Fact]
    public void Measure_IsTheInkedExtent_FromTheFirstColumnToTheLastAndDownToTheDescender()
    {
        // 'W' inks its first column, '|' its middle one, 'g' the descender row: the box is tight on three sides.
        const int scale = 3;
        var (width, height) = BitmapFont.Measure("W|Mg", scale);
        Assert.Equal(((4 * BitmapFont.Advance) - 1) * scale, width);
        Assert.Equal(BitmapFont.GlyphHeight * scale, height);
        var image = Canvas(width + 10, height + 10);
        Draw.Text(image, 0, 0, "W|Mg", Ink, scale);
        var ink = Enumerable.Range(0, image.Height).SelectMany(y => Enumerable.Range(0, image.Width).Where(x => image[x, y] == Ink).Select(x => (x, y))).ToList();
        Assert.Equal(0, ink.Min(p => p.x));
        Assert.Equal(0, ink.Min(p => p.y));
        Assert.Equal(height - 1, ink.Max(p => p.y));
        Assert.True(ink.Max(p => p.x) < width);
        Assert.Equal(0, BitmapFont.Measure("", 2).Width);
    }

    [Fact]
    public void Text_IsClippedAtTheImageEdges()
    {
        var image = Canvas(8, 4);
        Draw.Text(image, -3, -2, "HH", Ink, 2);
        // 'H' at scale 2 from x = −3: its last column (x = 4·2 − 3 = 5..6) is inside, rows 2.. of the glyph are cut at y = 4.
        Assert.Equal(Ink, image[5, 0]);
        Assert.Equal(Paper, image[7, 3]);
        Draw.Text(image, 100, 100, "far away", Ink);
    }
}
