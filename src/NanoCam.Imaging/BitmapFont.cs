namespace NanoCam.Imaging;

/// <summary>
/// NanoCam's own 5×7 pixel font for printable ASCII (32–126), with one row below the baseline for descenders
/// (g j p q y , ;): labels drawn into PNGs without any font file. Other characters draw as a hollow box.
/// </summary>
public static class BitmapFont
{
    /// <summary>Columns of a glyph.</summary>
    public const int GlyphWidth = 5;

    /// <summary>Rows of a glyph: 7 down to the baseline, then 1 for descenders.</summary>
    public const int GlyphHeight = 8;

    /// <summary>Horizontal step from one glyph to the next: the glyph and one blank column.</summary>
    public const int Advance = GlyphWidth + 1;

    /// <summary>Vertical step from one line to the next: the glyph and one blank row.</summary>
    public const int LineHeight = GlyphHeight + 1;

    // One glyph per line: rows top to bottom, separated by spaces, '#' lit; a missing 8th (descender) row is blank.
    private static readonly (char Char, string Rows)[] Table =
    [
        (' ', "..... ..... ..... ..... ..... ..... ....."),
        ('!', "..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#.."),
        ('"', ".#.#. .#.#. .#.#. ..... ..... ..... ....."),
        ('#', ".#.#. .#.#. ##### .#.#. ##### .#.#. .#.#."),
        ('$', "..#.. .#### #.#.. .###. ..#.# ####. ..#.."),
        ('%', "##... ##..# ...#. ..#.. .#... #..## ...##"),
        ('&', ".##.. #..#. #.#.. .#... #.#.# #..#. .##.#"),
        ('\'', "..#.. ..#.. .#... ..... ..... ..... ....."),
        ('(', "...#. ..#.. .#... .#... .#... ..#.. ...#."),
        (')', ".#... ..#.. ...#. ...#. ...#. ..#.. .#..."),
        ('*', "..... ..#.. #.#.# .###. #.#.# ..#.. ....."),
        ('+', "..... ..#.. ..#.. ##### ..#.. ..#.. ....."),
        (',', "..... ..... ..... ..... ..... ..#.. ..#.. .#..."),
        ('-', "..... ..... ..... .###. ..... ..... ....."),
        ('.', "..... ..... ..... ..... ..... ..... ..#.."),
        ('/', "..... ....# ...#. ..#.. .#... #.... ....."),
        ('0', ".###. #...# #..## #.#.# ##..# #...# .###."),
        ('1', "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###."),
        ('2', ".###. #...# ....# ...#. ..#.. .#... #####"),
        ('3', "##### ...#. ..#.. ...#. ....# #...# .###."),
        ('4', "...#. ..##. .#.#. #..#. ##### ...#. ...#."),
        ('5', "##### #.... ####. ....# ....# #...# .###."),
        ('6', "..##. .#... #.... ####. #...# #...# .###."),
        ('7', "##### ....# ...#. ..#.. .#... .#... .#..."),
        ('8', ".###. #...# #...# .###. #...# #...# .###."),
        ('9', ".###. #...# #...# .#### ....# ...#. .##.."),
        (':', "..... ..... ..#.. ..... ..... ..#.. ....."),
        (';', "..... ..... ..#.. ..... ..... ..#.. ..#.. .#..."),
        ('<', "...#. ..#.. .#... #.... .#... ..#.. ...#."),
        ('=', "..... ..... ##### ..... ##### ..... ....."),
        ('>', ".#... ..#.. ...#. ....# ...#. ..#.. .#..."),
        ('?', ".###. #...# ....# ...#. ..#.. ..... ..#.."),
        ('@', ".###. #...# #.### #.#.# #.### #.... .####"),
        ('A', ".###. #...# #...# ##### #...# #...# #...#"),
        ('B', "####. #...# #...# ####. #...# #...# ####."),
        ('C', ".###. #...# #.... #.... #.... #...# .###."),
        ('D', "###.. #..#. #...# #...# #...# #..#. ###.."),
        ('E', "##### #.... #.... ####. #.... #.... #####"),
        ('F', "##### #.... #.... ####. #.... #.... #...."),
        ('G', ".###. #...# #.... #.### #...# #...# .####"),
        ('H', "#...# #...# #...# ##### #...# #...# #...#"),
        ('I', ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###."),
        ('J', "..### ...#. ...#. ...#. ...#. #..#. .##.."),
        ('K', "#...# #..#. #.#.. ##... #.#.. #..#. #...#"),
        ('L', "#.... #.... #.... #.... #.... #.... #####"),
        ('M', "#...# ##.## #.#.# #.#.# #...# #...# #...#"),
        ('N', "#...# #...# ##..# #.#.# #..## #...# #...#"),
        ('O', ".###. #...# #...# #...# #...# #...# .###."),
        ('P', "####. #...# #...# ####. #.... #.... #...."),
        ('Q', ".###. #...# #...# #...# #.#.# #..#. .##.#"),
        ('R', "####. #...# #...# ####. #.#.. #..#. #...#"),
        ('S', ".#### #.... #.... .###. ....# ....# ####."),
        ('T', "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#.."),
        ('U', "#...# #...# #...# #...# #...# #...# .###."),
        ('V', "#...# #...# #...# #...# #...# .#.#. ..#.."),
        ('W', "#...# #...# #...# #.#.# #.#.# #.#.# .#.#."),
        ('X', "#...# #...# .#.#. ..#.. .#.#. #...# #...#"),
        ('Y', "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#.."),
        ('Z', "##### ....# ...#. ..#.. .#... #.... #####"),
        ('[', ".###. .#... .#... .#... .#... .#... .###."),
        ('\\', "..... #.... .#... ..#.. ...#. ....# ....."),
        (']', ".###. ...#. ...#. ...#. ...#. ...#. .###."),
        ('^', "..#.. .#.#. #...# ..... ..... ..... ....."),
        ('_', "..... ..... ..... ..... ..... ..... #####"),
        ('`', ".#... ..#.. ...#. ..... ..... ..... ....."),
        ('a', "..... ..... .###. ....# .#### #...# .####"),
        ('b', "#.... #.... #.##. ##..# #...# #...# ####."),
        ('c', "..... ..... .###. #.... #.... #...# .###."),
        ('d', "....# ....# .##.# #..## #...# #...# .####"),
        ('e', "..... ..... .###. #...# ##### #.... .###."),
        ('f', "..##. .#..# .#... ###.. .#... .#... .#..."),
        ('g', "..... ..... .#### #...# #...# .#### ....# .###."),
        ('h', "#.... #.... #.##. ##..# #...# #...# #...#"),
        ('i', "..#.. ..... .##.. ..#.. ..#.. ..#.. .###."),
        ('j', "...#. ..... ..##. ...#. ...#. ...#. #..#. .##.."),
        ('k', "#.... #.... #..#. #.#.. ##... #.#.. #..#."),
        ('l', ".##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###."),
        ('m', "..... ..... ##.#. #.#.# #.#.# #...# #...#"),
        ('n', "..... ..... #.##. ##..# #...# #...# #...#"),
        ('o', "..... ..... .###. #...# #...# #...# .###."),
        ('p', "..... ..... ####. #...# #...# ####. #.... #...."),
        ('q', "..... ..... .#### #...# #...# .#### ....# ....#"),
        ('r', "..... ..... #.##. ##..# #.... #.... #...."),
        ('s', "..... ..... .#### #.... .###. ....# ####."),
        ('t', ".#... .#... ###.. .#... .#... .#..# ..##."),
        ('u', "..... ..... #...# #...# #...# #..## .##.#"),
        ('v', "..... ..... #...# #...# #...# .#.#. ..#.."),
        ('w', "..... ..... #...# #...# #.#.# #.#.# .#.#."),
        ('x', "..... ..... #...# .#.#. ..#.. .#.#. #...#"),
        ('y', "..... ..... #...# #...# #...# .#### ....# .###."),
        ('z', "..... ..... ##### ...#. ..#.. .#... #####"),
        ('{', "...#. ..#.. ..#.. .#... ..#.. ..#.. ...#."),
        ('|', "..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#.."),
        ('}', ".#... ..#.. ..#.. ...#. ..#.. ..#.. .#..."),
        ('~', "..... ..... .#... #.#.# ...#. ..... ....."),
    ];

    private const string MissingGlyph = "##### #...# #...# #...# #...# #...# #####";

    private const char First = ' ', Last = '~';

    // Glyph g's row r is Bits[g·GlyphHeight + r]; bit (GlyphWidth − 1 − column) is lit.
    private static readonly byte[] Bits = Build();
    private static readonly byte[] MissingBits = Parse(MissingGlyph, '?');

    /// <summary>Whether <paramref name="c"/> has a glyph of its own (printable ASCII); others draw as a hollow box.</summary>
    public static bool HasGlyph(char c) => c is >= First and <= Last;

    /// <summary>The glyph's rows, top to bottom; bit (<see cref="GlyphWidth"/> − 1 − column) of a row is lit.</summary>
    public static ReadOnlySpan<byte> Rows(char c) =>
        HasGlyph(c) ? Bits.AsSpan((c - First) * GlyphHeight, GlyphHeight) : MissingBits;

    /// <summary>Whether the pixel at (<paramref name="column"/>, <paramref name="row"/>) of the glyph for <paramref name="c"/> is lit.</summary>
    public static bool IsLit(char c, int column, int row) =>
        (uint)column < GlyphWidth && (uint)row < GlyphHeight && (Rows(c)[row] >> (GlyphWidth - 1 - column) & 1) != 0;

    /// <summary>
    /// Pixel size of <paramref name="text"/> on one line at integer <paramref name="scale"/>: width (n·Advance − 1)·scale
    /// (no trailing blank column), height GlyphHeight·scale; an empty text is 0 × GlyphHeight·scale.
    /// </summary>
    public static (int Width, int Height) Measure(string text, int scale = 1)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (scale < 1) throw new ArgumentOutOfRangeException(nameof(scale), "scale must be at least 1");
        return (text.Length == 0 ? 0 : (text.Length * Advance - 1) * scale, GlyphHeight * scale);
    }

    private static byte[] Build()
    {
        var bits = new byte[(Last - First + 1) * GlyphHeight];
        var seen = new bool[Last - First + 1];
        foreach (var (c, rows) in Table)
        {
            if (!HasGlyph(c) || seen[c - First]) throw new InvalidOperationException($"font table: '{c}' is not printable ASCII or is listed twice");
            seen[c - First] = true;
            Parse(rows, c).CopyTo(bits, (c - First) * GlyphHeight);
        }
        int absent = Array.IndexOf(seen, false);
        if (absent >= 0) throw new InvalidOperationException($"font table: no glyph for '{(char)(First + absent)}'");
        return bits;
    }

    private static byte[] Parse(string rows, char c)
    {
        var parts = rows.Split(' ');
        if (parts.Length is not (GlyphHeight - 1 or GlyphHeight) || parts.Any(p => p.Length != GlyphWidth || p.Any(ch => ch is not ('#' or '.'))))
            throw new InvalidOperationException($"font table: glyph '{c}' needs {GlyphHeight - 1} or {GlyphHeight} rows of {GlyphWidth} '#'/'.'");
        var result = new byte[GlyphHeight];
        for (int r = 0; r < parts.Length; r++)
            for (int col = 0; col < GlyphWidth; col++)
                if (parts[r][col] == '#') result[r] |= (byte)(1 << (GlyphWidth - 1 - col));
        return result;
    }
}
