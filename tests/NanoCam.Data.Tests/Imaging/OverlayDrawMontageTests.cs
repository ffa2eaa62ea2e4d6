using NanoCam.Imaging;

namespace NanoCam.Data.Tests.Imaging;

public class OverlayDrawMontageTests
{
    [Fact]
    public void Blend_AlphaZeroKeepsImage_AlphaOneIsTheColouredMap()
    {
        var image = new RgbImage(2, 2, Enumerable.Range(0, 12).Select(i => i / 12f).ToArray());
        float[] map = [0, 1, 0.5f, 0.25f];
        Assert.Equal(image.Pixels, Overlay.Blend(image, map, ColorMaps.Jet, 0).Pixels);
        RgbImage full = Overlay.Blend(image, map, ColorMaps.Jet, 1);
        Assert.Equal(ColorMaps.Jet(1), full[1, 0]);
    }

    [Fact]
    public void Blend_ResizesASmallerMapToTheImage()
    {
        var image = new RgbImage(8, 8);
        RgbImage result = Overlay.Blend(image, [1f], 1, 1, ColorMaps.Jet, 0.5f);
        Assert.Equal(new Rgb(0.25f, 0, 0), result[5, 5]);
    }

    [Fact]
    public void Rectangle_DrawsOnlyTheOutline()
    {
        var image = new RgbImage(10, 10);
        Draw.Rectangle(image, 2, 3, 7, 8, Rgb.Red, 1);
        Assert.Equal(Rgb.Red, image[2, 3]);
        Assert.Equal(Rgb.Red, image[7, 8]);
        Assert.Equal(Rgb.Red, image[5, 3]);
        Assert.Equal(Rgb.Black, image[5, 5]);
        Assert.Equal(Rgb.Black, image[1, 3]);
    }

    [Fact]
    public void Grid_PlacesTilesWithGaps()
    {
        var red = new RgbImage(3, 2);
        Draw.FillRectangle(red, 0, 0, 2, 1, Rgb.Red);
        RgbImage grid = Montage.Grid([red, red, red], columns: 2, gap: 1, background: Rgb.White);
        Assert.Equal((7, 5), (grid.Width, grid.Height));
        Assert.Equal(Rgb.Red, grid[4, 0]);
        Assert.Equal(Rgb.White, grid[3, 0]);
        Assert.Equal(Rgb.White, grid[5, 3]);
    }

    [Fact]
    public void HtmlPage_EmbedsImagesAndEscapesText()
    {
        using var temp = new TempDirectory();
        string path = temp.File("page.html");
        new HtmlPage("CAM <test>")
            .AddParagraph("a & b")
            .AddFigureRow([(new RgbImage(2, 2), "input"), (new RgbImage(2, 2), "grad-cam")], displayScale: 4)
            .Save(path);
        string html = File.ReadAllText(path);
        Assert.Contains("<title>CAM &lt;test&gt;</title>", html);
        Assert.Contains("a &amp; b", html);
        Assert.Equal(2, html.Split("data:image/png;base64,").Length - 1);
        Assert.Contains("<figcaption>grad-cam</figcaption>", html);
        Assert.False(File.Exists(path + ".tmp"));
    }
}
