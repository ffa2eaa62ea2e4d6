using NanoCam.Imaging;

namespace NanoCam.Data.Tests.Imaging;

public class ColorMapsTests
{
    [Fact]
    public void Jet_EndpointsAreDarkBlueAndDarkRed()
    {
        Assert.Equal(new Rgb(0, 0, 0.5f), ColorMaps.Jet(0));
        Assert.Equal(new Rgb(0.5f, 0, 0), ColorMaps.Jet(1));
        Rgb middle = ColorMaps.Jet(0.5f);
        Assert.True(middle.G > 0.99f && middle.R > 0.4f && middle.B > 0.4f);
    }

    [Fact]
    public void Viridis_EndpointsMatchTheReferenceTable()
    {
        AssertClose(new Rgb(0.267f, 0.005f, 0.329f), ColorMaps.Viridis(0), 2e-3f);
        AssertClose(new Rgb(0.993f, 0.906f, 0.144f), ColorMaps.Viridis(1), 2e-3f);
        AssertClose(new Rgb(0.128f, 0.567f, 0.551f), ColorMaps.Viridis(0.5f), 1e-2f);
    }

    [Fact]
    public void ColorMaps_ClampOutOfRangeValues()
    {
        Assert.Equal(ColorMaps.Jet(0), ColorMaps.Jet(-3));
        Assert.Equal(ColorMaps.Viridis(1), ColorMaps.Viridis(7));
        Assert.Equal(ColorMaps.Viridis(0), ColorMaps.Viridis(float.NaN));
    }

    [Fact]
    public void Get_LooksUpByName_AndUnknownNameListsValidNames()
    {
        Assert.Equal(ColorMaps.Jet(0.3f), ColorMaps.Get("JET")(0.3f));
        Assert.Equal(ColorMaps.Viridis(0.3f), ColorMaps.Get("viridis")(0.3f));
        var error = Assert.Throws<ArgumentException>(() => ColorMaps.Get("magma"));
        Assert.Contains("magma", error.Message);
        Assert.Contains("jet, viridis", error.Message);
    }

    private static void AssertClose(Rgb expected, Rgb actual, float tolerance)
    {
        Assert.InRange(actual.R, expected.R - tolerance, expected.R + tolerance);
        Assert.InRange(actual.G, expected.G - tolerance, expected.G + tolerance);
        Assert.InRange(actual.B, expected.B - tolerance, expected.B + tolerance);
    }
}
