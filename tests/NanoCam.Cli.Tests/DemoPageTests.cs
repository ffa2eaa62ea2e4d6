using System.Text.Json;

namespace NanoCam.Cli.Tests;

/// <summary>A short demo run writes overlays and a self-contained page that headless Chromium loads and shows.</summary>
public sealed class DemoPageTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-demo").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ShortDemo_WritesOverlaysAndAPageThatChromiumRendersWithItsImages()
    {
        var (code, stdout, stderr) = CliHarness.Run("demo", "--out", _dir, "--epochs", "1", "--train-images", "256", "--examples", "6", "--threads", "2", "--json");
        Assert.True(code == 0, stderr);
        using (var json = CliHarness.LastLineJson(stdout))
        {
            Assert.InRange(json.RootElement.GetProperty("accuracy").GetDouble(), 0, 1);
            Assert.InRange(json.RootElement.GetProperty("localization_accuracy").GetDouble(), 0, 1);
        }
        Assert.Equal(6, Directory.GetFiles(Path.Combine(_dir, "cams"), "*.png").Length);
        var page = Path.Combine(_dir, "index.html");
        Assert.True(File.Exists(page));

        // Chromium: after load the page holds six overlays and the colour bar, all decoded (naturalWidth > 0 means the data URI decoded), and no errors.
        var report = HeadlessChromium.Check(page, _dir);
        Assert.Equal((7, 7), (report.Images, report.Decoded));
        Assert.Empty(report.Errors);
    }
}
