using System.Xml.Linq;
using NanoCam.Imaging;

namespace NanoCam.Data.Tests.Imaging;

/// <summary>The colour bar follows its colour map from 0 to 1 with both ends labelled; MathML builders write well-formed, escaped markup.</summary>
public class ColorBarAndMathMlTests
{
    [Theory]
    [InlineData("jet")]
    [InlineData("viridis")]
    public void ColorBar_ColumnsFollowTheColourMapFrom0To1_AndTheEndsAreLabelled0And1(string name)
    {
        ColorMap colors = ColorMaps.Get(name);
        const int width = 256, barHeight = 18, scale = 2;
        var bar = ColorBar.Render(colors, width, barHeight, scale);
        Assert.Equal(width, bar.Width);
        for (int y = 0; y < barHeight; y++)
            for (int x = 0; x < width; x++)
                Assert.Equal(colors(x / 255f), bar[x, y]);
        Assert.Equal(colors(0), bar[0, 0]);
        Assert.Equal(colors(1), bar[width - 1, 0]);
        Assert.Equal(Rgb.Black, bar[0, barHeight]);
        Assert.Equal(Rgb.Black, bar[width - 1, barHeight + ColorBar.TickLength - 1]);
        Assert.Equal(Rgb.White, bar[width / 2, barHeight]);

        int labelTop = ColorBar.LabelTop(barHeight);
        Assert.Equal(bar.Height, labelTop + BitmapFont.GlyphHeight * scale);
        Assert.Equal("0", FontReader.Read(bar, new PixelRect(0, labelTop, width / 2, bar.Height - labelTop), Rgb.Black, scale));
        Assert.Equal("1", FontReader.Read(bar, new PixelRect(width / 2, labelTop, width / 2, bar.Height - labelTop), Rgb.Black, scale));
    }

    [Fact]
    public void MathMl_GradCamWeights_IsWellFormedPresentationMarkup_WithTheScriptsInPlace()
    {
        // α_k^c = (1/Z) Σ_i Σ_j ∂y^c/∂A^k_ij
        string markup = MathMl.Block(
            MathMl.SubSup(MathMl.Mi("α"), MathMl.Mi("k"), MathMl.Mi("c")), MathMl.Mo("="),
            MathMl.Frac(MathMl.Mn("1"), MathMl.Mi("Z")), MathMl.Sum("i"), MathMl.Sum("j"),
            MathMl.Frac(MathMl.Row(MathMl.Mo("∂"), MathMl.Sup(MathMl.Mi("y"), MathMl.Mi("c"))),
                        MathMl.Row(MathMl.Mo("∂"), MathMl.SubSup(MathMl.Mi("A"), MathMl.Row(MathMl.Mi("i"), MathMl.Mi("j")), MathMl.Mi("k")))));
        var math = XElement.Parse(markup);
        Assert.Equal("math", math.Name.LocalName);
        Assert.Equal("block", (string?)math.Attribute("display"));
        var alpha = math.Descendants("msubsup").First();
        Assert.Equal(["α", "k", "c"], alpha.Elements().Select(e => e.Value));
        Assert.Equal(2, math.Descendants("munder").Count(u => u.Elements().First().Value == "∑"));
        Assert.Equal(2, math.Descendants("mfrac").Count());
        Assert.DoesNotContain("<script", markup);
    }

    [Fact]
    public void MathMl_EscapesText()
    {
        Assert.Equal("<mi>a&lt;b</mi>", MathMl.Mi("a<b"));
        Assert.Equal("<mtext>Grad-CAM &amp; CAM</mtext>", MathMl.Text("Grad-CAM & CAM"));
    }
}
