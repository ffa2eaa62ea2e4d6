namespace NanoCam.Cli.Tests;

/// <summary>The page judge itself: it must see a broken image and a console error, or its "no errors" means nothing.</summary>
public sealed class HeadlessChromiumTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-chromium").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Check_ReportsABrokenImageAndAConsoleError()
    {
        var page = Path.Combine(_dir, "broken.html");
        var good = Imaging.HtmlPage.ImageTag(new Imaging.RgbImage(2, 2), "black");
        File.WriteAllText(page, "<!DOCTYPE html><html><head><title>t</title></head><body>" + good +
            "<img src=\"data:image/png;base64,AAAA\" alt=\"broken\"><script>console.error('boom')</script></body></html>");
        var report = HeadlessChromium.Check(page, _dir);
        Assert.Equal((2, 1), (report.Images, report.Decoded));
        Assert.Contains(report.Errors, e => e.Contains("boom"));
        Assert.Contains(report.Errors, e => e.Contains("failed to load"));
    }
}
