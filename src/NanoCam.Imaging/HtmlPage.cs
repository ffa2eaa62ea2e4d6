using System.Net;
using System.Text;

namespace NanoCam.Imaging;

/// <summary>Builds a self-contained HTML report: headings, paragraphs and grids of captioned figures embedded as base64 PNG data URIs.</summary>
public sealed class HtmlPage
{
    private readonly StringBuilder _body = new();
    private readonly StringBuilder _style = new();

    public HtmlPage(string title) => Title = title ?? "";

    public string Title { get; }

    public HtmlPage AddHeading(string text, int level = 2)
    {
        level = Math.Clamp(level, 1, 6);
        _body.Append($"<h{level}>{Escape(text)}</h{level}>\n");
        return this;
    }

    public HtmlPage AddParagraph(string text)
    {
        _body.Append($"<p>{Escape(text)}</p>\n");
        return this;
    }

    /// <summary>Adds markup as it is (inline SVG, a formula, a number grid): the caller builds it and escapes its text with <see cref="Escape"/>.</summary>
    public HtmlPage AddHtml(string markup)
    {
        _body.Append(markup).Append('\n');
        return this;
    }

    /// <summary>Adds CSS rules after the page's own (for the classes used by <see cref="AddHtml"/> markup).</summary>
    public HtmlPage AddStyle(string css)
    {
        _style.Append(css).Append('\n');
        return this;
    }

    /// <summary>Adds preformatted text (e.g. a table printed by the CLI).</summary>
    public HtmlPage AddPreformatted(string text)
    {
        _body.Append($"<pre>{Escape(text)}</pre>\n");
        return this;
    }

    /// <summary>Adds one row of figures; each image is embedded as a PNG data URI, scaled by <paramref name="displayScale"/> with crisp pixels.</summary>
    public HtmlPage AddFigureRow(IEnumerable<(RgbImage Image, string Caption)> figures, int displayScale = 1)
    {
        _body.Append("<div class=\"row\">\n");
        foreach (var (image, caption) in figures) AppendFigure(image, caption, displayScale);
        _body.Append("</div>\n");
        return this;
    }

    /// <summary>Adds a table: a header row and rows of cells, each cell either text or an image.</summary>
    public HtmlPage AddTable(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<object>> rows, int displayScale = 1)
    {
        _body.Append("<table>\n<tr>");
        foreach (string h in header) _body.Append($"<th>{Escape(h)}</th>");
        _body.Append("</tr>\n");
        foreach (var row in rows)
        {
            _body.Append("<tr>");
            foreach (object cell in row)
                _body.Append(cell is RgbImage image ? $"<td>{ImageTag(image, "", displayScale)}</td>" : $"<td>{Escape(cell?.ToString() ?? "")}</td>");
            _body.Append("</tr>\n");
        }
        _body.Append("</table>\n");
        return this;
    }

    /// <summary>The whole document.</summary>
    public string Render() =>
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n" +
        $"<title>{Escape(Title)}</title>\n<style>\n{Css}{_style}</style>\n</head>\n<body>\n<h1>{Escape(Title)}</h1>\n" +
        _body + "</body>\n</html>\n";

    /// <summary>Writes the page atomically (PATH.tmp then rename).</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, Render());

    /// <summary>An &lt;img&gt; whose source is the PNG encoding of the image as a base64 data URI.</summary>
    public static string ImageTag(RgbImage image, string alt, int displayScale = 1)
    {
        string base64 = Convert.ToBase64String(ImageCodec.EncodePng(image));
        int scale = Math.Max(1, displayScale);
        return $"<img src=\"data:image/png;base64,{base64}\" width=\"{image.Width * scale}\" height=\"{image.Height * scale}\" alt=\"{Escape(alt)}\">";
    }

    private void AppendFigure(RgbImage image, string caption, int displayScale) =>
        _body.Append($"<figure>{ImageTag(image, caption, displayScale)}<figcaption>{Escape(caption)}</figcaption></figure>\n");

    /// <summary>Text made safe for HTML content and attribute values.</summary>
    public static string Escape(string text) => WebUtility.HtmlEncode(text);

    private const string Css =
        "body { font-family: sans-serif; margin: 2em; color: #222; }\n" +
        ".row { display: flex; flex-wrap: wrap; gap: 12px; margin-bottom: 1em; }\n" +
        "figure { margin: 0; text-align: center; }\n" +
        "figcaption { font-size: 0.85em; margin-top: 4px; }\n" +
        "img { image-rendering: pixelated; }\n" +
        "table { border-collapse: collapse; }\n" +
        "td, th { border: 1px solid #ccc; padding: 4px 8px; text-align: center; }\n";
}
