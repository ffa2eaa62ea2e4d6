using System.Text.RegularExpressions;
using System.Xml.Linq;
using NanoCam.Cli.Shared;
using NanoCam.Imaging;

namespace NanoCam.Cli.Tests;

/// <summary>The demo page built from constructed examples: misses marked exactly where IoU &lt; 0.5, a colour bar of the colour map, the equations as MathML.</summary>
public sealed class DemoPageBuilderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-demo-page").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // IoU 0.5 is a hit (≥ 0.5), 0.4999 a miss that must not read as 0.50; null has no true box and no marker.
    private static readonly double?[] IoUs = [0.91, 0.49, 0.5, 0.0, 0.4999, 0.75, null, 0.2];

    private static List<DemoExample> Examples() =>
        [.. IoUs.Select((iou, i) => new DemoExample(new RgbImage(12, 12), $"#{i}: square", iou))];

    private static List<string> Figures(string html) =>
        [.. Regex.Matches(html, "<figure class=\"example[^\"]*\">.*?</figure>", RegexOptions.Singleline).Select(m => m.Value)];

    [Fact]
    public void Build_MarksExactlyTheExamplesWithIoUBelowHalf_WithARedFrameAndTheWordMissAndTheIoU()
    {
        string html = DemoPage.Build("demo", "summary", Examples(), "jet").Render();
        var figures = Figures(html);
        Assert.Equal(IoUs.Length, figures.Count);
        int[] misses = [1, 3, 4, 7];
        for (int i = 0; i < figures.Count; i++)
        {
            bool miss = misses.Contains(i);
            Assert.Equal(miss, figures[i].StartsWith("<figure class=\"example miss\">", StringComparison.Ordinal));
            Assert.Equal(miss, figures[i].Contains("miss: IoU", StringComparison.Ordinal));
            Assert.Contains($"#{i}: square", figures[i]);
        }
        Assert.Contains("miss: IoU 0.49<", figures[1]);
        Assert.Contains("miss: IoU 0.00<", figures[3]);
        Assert.Contains("miss: IoU 0.49<", figures[4]);
        Assert.Contains(", IoU 0.50<", figures[2]);
        Assert.DoesNotContain("IoU", figures[6]);
        Assert.Matches("figure\\.miss \\{[^}]*outline: 4px solid #d00000", html);
        Assert.Contains("(4 of the 8 shown)", html);
    }

    [Theory]
    [InlineData("jet")]
    [InlineData("viridis")]
    public void Build_ShowsAColourBarImageOfItsColourMap(string name)
    {
        string html = DemoPage.Build("demo", "summary", Examples(), name).Render();
        var bars = Regex.Matches(html, "<img class=\"colorbar\" src=\"data:image/png;base64,([^\"]+)\"");
        var bar = ImageCodec.Decode(Convert.FromBase64String(Assert.Single(bars).Groups[1].Value));
        var colors = ColorMaps.Get(name);
        for (int x = 0; x < bar.Width; x++)
        {
            Rgb expected = colors((float)x / (bar.Width - 1)), got = bar[x, 0];
            Assert.True(Math.Abs(expected.R - got.R) <= 1 / 255f && Math.Abs(expected.G - got.G) <= 1 / 255f && Math.Abs(expected.B - got.B) <= 1 / 255f,
                $"column {x}: expected {expected}, got {got}");
        }
    }

    [Fact]
    public void Build_WritesTheCamAndGradCamEquationsAsMathML_WithNoScriptAndNoNetwork()
    {
        string html = DemoPage.Build("demo", "summary", Examples(), "jet").Render();
        var maths = Regex.Matches(html, "<math display=\"block\">.*?</math>", RegexOptions.Singleline).Select(m => XElement.Parse(m.Value)).ToList();
        Assert.Equal(3, maths.Count);
        string Scripted(XElement e) => string.Join(" ", e.Elements().Select(c => c.Value));
        // M_c(x,y) = Σ_k w_k^c A_k(x,y)
        Assert.Contains("M c", maths[0].Descendants("msub").Select(Scripted));
        Assert.Contains("w k c", maths[0].Descendants("msubsup").Select(Scripted));
        // α_k^c = (1/Z) Σ_i Σ_j ∂y^c/∂A^k_ij
        Assert.Contains("α k c", maths[1].Descendants("msubsup").Select(Scripted));
        Assert.Equal(["1 Z", "∂yc ∂Aijk"], maths[1].Descendants("mfrac").Select(Scripted));
        Assert.Equal(["i", "j"], maths[1].Descendants("munder").Select(u => u.Elements().Last().Value));
        // L^c_Grad-CAM = ReLU(Σ_k α_k^c A^k)
        Assert.Contains("L Grad-CAM c", maths[2].Descendants("msubsup").Select(Scripted));
        Assert.Contains(maths[2].Descendants("mi"), mi => mi.Value == "ReLU");
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("https://", html);
    }

    [Fact]
    public void Page_LoadsInChromiumWithoutErrors_WithEveryImageDecoded()
    {
        string page = Path.Combine(_dir, "index.html");
        DemoPage.Build("demo", "summary", Examples(), "jet").Save(page);
        var report = HeadlessChromium.Check(page, _dir);
        Assert.Empty(report.Errors);
        Assert.Equal((IoUs.Length + 1, IoUs.Length + 1), (report.Images, report.Decoded)); // the examples and the colour bar
    }

    [Theory]
    [InlineData(8, new[] { "0", "1", "2", "3", "4", "5", "6", "7", "8", "9" }, "class 8")]
    [InlineData(2, new[] { "circle", "square", "triangle" }, "class 2 (triangle)")]
    [InlineData(5, null, "class 5")]
    [InlineData(12, new[] { "circle" }, "class 12")]
    public void ClassLabels_SayTheClassOnce(int index, string[]? names, string expected) =>
        Assert.Equal(expected, ClassLabels.Describe(index, names));
}
