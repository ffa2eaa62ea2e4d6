using System.Globalization;
using System.Text;
using NanoCam.Explain.Metrics;
using NanoCam.Imaging;
using static NanoCam.Imaging.MathMl;

namespace NanoCam.Cli.Shared;

/// <summary>One test image on the demo page: its CAM overlay, its caption, and the IoU of the CAM box with the true box (null without a true box).</summary>
public sealed record DemoExample(RgbImage Overlay, string Caption, double? IoU);

/// <summary>One panel of a story page: a heading, a short plain-language text and its overlays.</summary>
public sealed record DemoPanel(string Heading, string Text, IReadOnlyList<DemoExample> Examples);

/// <summary>
/// The demo's page: the summary, the CAM and Grad-CAM equations as MathML, a colour bar for the overlays, and the
/// overlays with every miss (IoU &lt; <see cref="Localization.MinIoU"/> with the true box) framed in red and labelled.
/// </summary>
public static class DemoPage
{
    /// <summary>Examples per row of figures.</summary>
    public const int FiguresPerRow = 6;

    /// <summary>A localization miss: the CAM box overlaps the true box by less than the hit threshold.</summary>
    public static bool IsMiss(double? iou) => iou is { } value && value < Localization.MinIoU;

    /// <summary>The IoU with two decimals, rounded down so that a miss never reads as 0.50.</summary>
    public static string FormatIoU(double iou) => (Math.Floor(iou * 100 + 1e-9) / 100).ToString("0.00", CultureInfo.InvariantCulture);

    /// <summary>The page: <paramref name="summary"/> first, then the equations, the colour bar of <paramref name="colormap"/> and the examples.</summary>
    public static HtmlPage Build(string title, string summary, IReadOnlyList<DemoExample> examples, string colormap)
    {
        var page = Start(title, summary, colormap);
        int misses = examples.Count(e => IsMiss(e.IoU));
        page.AddHeading("Test images");
        page.AddHtml("<p>Green: the true box. Red: the CAM box (the map ≥ 20% of its maximum, bounding box of the largest connected component). " +
            $"<span class=\"miss-label\">A red frame marks a miss</span>: IoU &lt; {Localization.MinIoU.ToString(CultureInfo.InvariantCulture)} with the true box " +
            $"({misses} of the {examples.Count} shown).</p>");
        AddRows(page, examples);
        return page;
    }

    /// <summary>A page told in panels: <paramref name="summary"/>, the equations and colour bar, then per panel a heading, a plain-language text and its overlays.</summary>
    public static HtmlPage BuildStory(string title, string summary, IReadOnlyList<DemoPanel> panels, string colormap)
    {
        var page = Start(title, summary, colormap);
        foreach (var panel in panels)
        {
            page.AddHeading(panel.Heading);
            page.AddParagraph(panel.Text);
            AddRows(page, panel.Examples);
        }
        return page;
    }

    private static void AddRows(HtmlPage page, IReadOnlyList<DemoExample> examples)
    {
        foreach (var row in examples.Chunk(FiguresPerRow))
        {
            var html = new StringBuilder("<div class=\"row\">\n");
            foreach (var example in row) html.Append(Figure(example)).Append('\n');
            page.AddHtml(html.Append("</div>").ToString());
        }
    }

    private static HtmlPage Start(string title, string summary, string colormap)
    {
        var colors = ColorMaps.Get(colormap);
        var page = new HtmlPage(title);
        page.AddStyle(Css);
        page.AddParagraph(summary);

        page.AddHeading("What the overlays show");
        page.AddHtml("<p>Each overlay is the class activation map of the predicted class <i>c</i> (Zhou et al., CVPR 2016, eq. 3): " +
            "the feature maps <i>A<sub>k</sub></i> of the last convolution weighted by the classifier's weights for <i>c</i>,</p>");
        page.AddHtml(CamEquation);
        page.AddHtml("<p>Grad-CAM (Selvaraju et al., ICCV 2017, eq. 1–2) takes the weights from the gradient of the class score instead. " +
            "On this network, whose head is global average pooling and one linear layer, <i>α<sub>k</sub><sup>c</sup></i> = <i>w<sub>k</sub><sup>c</sup></i>/<i>Z</i>, " +
            "so after min–max scaling the two maps are the same:</p>");
        page.AddHtml(GradCamWeightsEquation);
        page.AddHtml(GradCamMapEquation);
        page.AddHtml($"<figure class=\"legend\">{ColorBarTag(colors, colormap)}<figcaption>map value after min–max scaling, {HtmlPage.Escape(colormap)} colour map</figcaption></figure>");
        return page;
    }

    private static string Figure(DemoExample example)
    {
        bool miss = IsMiss(example.IoU);
        string iou = example.IoU is { } value
            ? miss ? $" <strong class=\"miss-label\">miss: IoU {FormatIoU(value)}</strong>" : $", IoU {FormatIoU(value)}"
            : "";
        return $"<figure class=\"example{(miss ? " miss" : "")}\">{HtmlPage.ImageTag(example.Overlay, example.Caption)}" +
            $"<figcaption>{HtmlPage.Escape(example.Caption)}{iou}</figcaption></figure>";
    }

    private static string ColorBarTag(ColorMap colors, string name)
    {
        string tag = HtmlPage.ImageTag(ColorBar.Render(colors), $"colour bar of the {name} colour map: 0 at the left, 1 at the right");
        return tag.Replace("<img ", "<img class=\"colorbar\" ", StringComparison.Ordinal);
    }

    /// <summary>M_c(x,y) = Σ_k w_k^c A_k(x,y)  (CAM eq. 3).</summary>
    public static string CamEquation { get; } = Block(
        Sub(Mi("M"), Mi("c")), Position, Mo("="), Sum("k"), SubSup(Mi("w"), Mi("k"), Mi("c")), Sub(Mi("A"), Mi("k")), Position);

    // (x, y) in a row of its own, so its brackets keep their size beside a Σ.
    private static string Position => Row(Mo("("), Mi("x"), Mo(","), Mi("y"), Mo(")"));

    /// <summary>α_k^c = (1/Z) Σ_i Σ_j ∂y^c/∂A^k_ij  (Grad-CAM eq. 1).</summary>
    public static string GradCamWeightsEquation { get; } = Block(
        SubSup(Mi("α"), Mi("k"), Mi("c")), Mo("="), Frac(Mn("1"), Mi("Z")), Sum("i"), Sum("j"),
        Frac(Row(Mo("∂"), Sup(Mi("y"), Mi("c"))), Row(Mo("∂"), SubSup(Mi("A"), Row(Mi("i"), Mi("j")), Mi("k")))));

    /// <summary>L^c_Grad-CAM = ReLU(Σ_k α_k^c A^k)  (Grad-CAM eq. 2).</summary>
    public static string GradCamMapEquation { get; } = Block(
        SubSup(Mi("L"), Text("Grad-CAM"), Mi("c")), Mo("="), Mi("ReLU"), Mo("("),
        Sum("k"), SubSup(Mi("α"), Mi("k"), Mi("c")), Sup(Mi("A"), Mi("k")), Mo(")"));

    private const string Css =
        "p { max-width: 62em; line-height: 1.45; }\n" +
        "math { font-family: 'Latin Modern Math', 'STIX Two Math', 'Cambria Math', 'DejaVu Math TeX Gyre', math, serif; }\n" +
        "math[display=\"block\"] { font-size: 1.3em; margin: 0.6em 0; }\n" +
        "figure.legend { text-align: left; margin: 0.5em 0 1em; }\n" +
        "figure.example { width: min-content; }\n" +
        "figure.miss { outline: 4px solid #d00000; outline-offset: 1px; }\n" +
        ".miss-label { color: #d00000; font-weight: bold; }\n";
}
