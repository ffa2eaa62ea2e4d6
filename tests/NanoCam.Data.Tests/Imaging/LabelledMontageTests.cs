using NanoCam.Imaging;

namespace NanoCam.Data.Tests.Imaging;

/// <summary><see cref="Montage.Labelled"/>: panels of at least 128 px by nearest neighbour, one label strip per panel that reads back as its label, wrapping, the title.</summary>
public class LabelledMontageTests
{
    /// <summary>The input and the 19 methods of <c>nanocam explain --method all</c> at the time of writing.</summary>
    private static readonly string[] ExplainAllLabels =
    [
        "input", "cam", "gradcam", "gradcam++", "smoothgradcam++", "xgradcam", "hirescam", "gradcam-elementwise", "layercam", "scorecam",
        "sscam", "iscam", "ablationcam", "eigencam", "eigengradcam", "fullgrad", "random", "counterfactual-gradcam", "guided-backprop", "guided-gradcam",
    ];

    private static RgbImage[] MnistSizedPanels(int count, int seed = 3)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => new RgbImage(28, 28, [.. Enumerable.Range(0, 28 * 28 * 3).Select(_ => random.Next(256) / 255f)]))];
    }

    [Fact]
    public void Labelled_MnistPanelsAreUpscaledTo140Pixels_ByNearestNeighbour_InTheirPlaces()
    {
        var images = MnistSizedPanels(ExplainAllLabels.Length);
        var montage = Montage.Labelled(images, ExplainAllLabels, columns: 5);
        Assert.Equal(images.Length, montage.Panels.Count);
        for (int i = 0; i < images.Length; i++)
        {
            var rect = montage.Panels[i];
            Assert.True(rect.Width >= 128 && rect.Height >= 128, $"panel {i} is {rect.Width}×{rect.Height}");
            Assert.Equal((140, 140), (rect.Width, rect.Height)); // ⌈128 / 28⌉ = 5
            for (int y = 0; y < rect.Height; y++)
                for (int x = 0; x < rect.Width; x++)
                    Assert.Equal(images[i][x / 5, y / 5], montage.Image[rect.Left + x, rect.Top + y]);
        }
        // Row-major, five to a row: panel 6 is right of panel 5 and under panel 1.
        Assert.True(montage.Panels[6].Left > montage.Panels[5].Left && montage.Panels[6].Top == montage.Panels[5].Top);
        Assert.Equal(montage.Panels[1].Left, montage.Panels[6].Left);
        Assert.True(montage.Panels[6].Top >= montage.Panels[1].Top + 140);
        Assert.True(montage.Image.Width >= 5 * 140 && montage.Image.Height >= 4 * 140);
    }

    [Fact]
    public void Labelled_HasOneLabelStripPerPanel_AboveIt_AndEachStripReadsBackAsItsLabel()
    {
        var images = MnistSizedPanels(ExplainAllLabels.Length);
        var montage = Montage.Labelled(images, ExplainAllLabels, columns: 5, textScale: 2);
        Assert.Equal(ExplainAllLabels.Length, montage.LabelStrips.Count);
        for (int i = 0; i < ExplainAllLabels.Length; i++)
        {
            PixelRect strip = montage.LabelStrips[i], panel = montage.Panels[i];
            Assert.Equal(panel.Top, strip.Top + strip.Height);
            Assert.True(strip.Left <= panel.Left && strip.Left + strip.Width >= panel.Left + panel.Width);
            Assert.Equal(Montage.LabelBackground, montage.Image[strip.Left, strip.Top]);
            Assert.Equal(ExplainAllLabels[i], FontReader.Read(montage.Image, strip, Rgb.Black, scale: 2));
        }
    }

    [Fact]
    public void Labelled_WrapsALabelWiderThanItsPanelAfterAHyphen()
    {
        var montage = Montage.Labelled(MnistSizedPanels(2), ["counterfactual-gradcam", "cam"], columns: 2);
        Assert.Equal(["counterfactual-", "gradcam"], FontReader.ReadLines(montage.Image, montage.LabelStrips[0], Rgb.Black, 2));
        Assert.Equal(["cam"], FontReader.ReadLines(montage.Image, montage.LabelStrips[1], Rgb.Black, 2));
        // One strip height for the whole grid, so panels line up.
        Assert.Equal(montage.Panels[0].Top, montage.Panels[1].Top);
    }

    [Fact]
    public void Labelled_BreaksOnlyLabelsWiderThanTheCell_WhichTheWidestUnbreakableLabelSets()
    {
        // "smoothgradcam++" cannot break, so cells grow to hold it; "guided-gradcam" then fits on one line.
        var montage = Montage.Labelled(MnistSizedPanels(3), ["smoothgradcam++", "guided-gradcam", "gradcam-elementwise"], columns: 3);
        Assert.Equal(["smoothgradcam++"], FontReader.ReadLines(montage.Image, montage.LabelStrips[0], Rgb.Black, 2));
        Assert.Equal(["guided-gradcam"], FontReader.ReadLines(montage.Image, montage.LabelStrips[1], Rgb.Black, 2));
        Assert.Equal(["gradcam-", "elementwise"], FontReader.ReadLines(montage.Image, montage.LabelStrips[2], Rgb.Black, 2));
        Assert.True(montage.LabelStrips[0].Width >= BitmapFont.Measure("smoothgradcam++", 2).Width);
    }

    [Fact]
    public void Labelled_WritesTheTitleOnceAboveTheGrid()
    {
        var montage = Montage.Labelled(MnistSizedPanels(3), ["input", "cam", "gradcam"], columns: 3, title: "class 7, layer 'features.4'");
        var title = Assert.IsType<PixelRect>(montage.TitleStrip);
        Assert.Equal("class 7, layer 'features.4'", FontReader.Read(montage.Image, title, Rgb.Black, 2));
        Assert.True(title.Top + title.Height <= montage.LabelStrips.Min(s => s.Top));
        Assert.Null(Montage.Labelled(MnistSizedPanels(1), ["input"], columns: 1).TitleStrip);
    }

    [Fact]
    public void Labelled_KeepsLargePanelsAtTheirSize_AndNeedsOneLabelPerImage()
    {
        var big = new RgbImage(200, 150);
        var montage = Montage.Labelled([big], ["input"], columns: 4);
        Assert.Equal((200, 150), (montage.Panels[0].Width, montage.Panels[0].Height));
        Assert.Throws<ArgumentException>(() => Montage.Labelled([big, big], ["input"], columns: 2));
    }
}
