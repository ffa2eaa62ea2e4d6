using NanoCam.Imaging;

namespace NanoCam.Data.Tests.Imaging;

public class ResizeTests
{
    [Fact]
    public void Bilinear_Upsample2x2To4x4_MatchesHalfPixelHandComputation()
    {
        // Source value v(x, y) = x + 2y; destination x samples u = (x + ½)·½ − ½ clamped to [0, 1] → 0, ¼, ¾, 1.
        float[] source = [0, 1, 2, 3];
        var result = new float[16];
        Resize.Bilinear(source, 2, 2, 1, result, 4, 4);
        float[] expected =
        [
            0.0f, 0.25f, 0.75f, 1.0f,
            0.5f, 0.75f, 1.25f, 1.5f,
            1.5f, 1.75f, 2.25f, 2.5f,
            2.0f, 2.25f, 2.75f, 3.0f,
        ];
        for (int i = 0; i < 16; i++) Assert.Equal(expected[i], result[i], 5);
    }

    [Fact]
    public void Bilinear_Downsample_AveragesNeighbourPairs()
    {
        var result = new float[2];
        Resize.Bilinear([0f, 1f, 2f, 3f], 4, 1, 1, result, 2, 1);
        Assert.Equal(0.5f, result[0], 5);
        Assert.Equal(2.5f, result[1], 5);
    }

    [Fact]
    public void Bilinear_KeepsChannelsSeparate()
    {
        var image = new RgbImage(2, 1, [1, 0, 0, 0, 0, 1]);
        RgbImage wide = Resize.Bilinear(image, 4, 1);
        Assert.Equal(new Rgb(1, 0, 0), wide[0, 0]);
        Assert.Equal(new Rgb(0.75f, 0, 0.25f), wide[1, 0]);
        Assert.Equal(new Rgb(0, 0, 1), wide[3, 0]);
    }

    [Fact]
    public void ShorterSide_ThenCenterCrop_GivesSquare()
    {
        var image = new RgbImage(200, 100);
        RgbImage scaled = Resize.ShorterSide(image, 50);
        Assert.Equal((100, 50), (scaled.Width, scaled.Height));
        RgbImage crop = Resize.CenterCrop(scaled, 50, 50);
        Assert.Equal((50, 50), (crop.Width, crop.Height));
    }

    [Fact]
    public void CenterCrop_TakesTheMiddle()
    {
        var image = new RgbImage(4, 1);
        for (int x = 0; x < 4; x++) image[x, 0] = new Rgb(x / 4f, 0, 0);
        RgbImage crop = Resize.CenterCrop(image, 2, 1);
        Assert.Equal(0.25f, crop[0, 0].R);
        Assert.Equal(0.5f, crop[1, 0].R);
    }
}
