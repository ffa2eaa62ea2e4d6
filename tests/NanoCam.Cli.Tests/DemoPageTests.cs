using System.Diagnostics;
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
        using (var json = JsonDocument.Parse(stdout.TrimEnd().Split('\n')[^1]))
        {
            Assert.InRange(json.RootElement.GetProperty("accuracy").GetDouble(), 0, 1);
            Assert.InRange(json.RootElement.GetProperty("localization_accuracy").GetDouble(), 0, 1);
        }
        Assert.Equal(6, Directory.GetFiles(Path.Combine(_dir, "cams"), "*.png").Length);
        var page = Path.Combine(_dir, "index.html");
        Assert.True(File.Exists(page));

        // Chromium: the DOM after load holds six decoded images (naturalWidth > 0 means the data URI decoded).
        var script = Path.Combine(_dir, "check.html");
        var html = File.ReadAllText(page).Replace("</body>",
            "<script>window.addEventListener('load',()=>{const i=[...document.images];" +
            "document.title='images:'+i.length+' decoded:'+i.filter(x=>x.complete&&x.naturalWidth>0).length;});</script></body>");
        File.WriteAllText(script, html);
        var dom = RunChromium("--dump-dom", new Uri(script).AbsoluteUri);
        Assert.Contains("<title>images:6 decoded:6</title>", dom);
    }

    private static string RunChromium(params string[] args)
    {
        var info = new ProcessStartInfo("chromium") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000" }.Concat(args)) info.ArgumentList.Add(a);
        using var process = Process.Start(info) ?? throw new InvalidOperationException("chromium could not be started (Debian package 'chromium')");
        var output = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000)) { process.Kill(true); throw new TimeoutException("chromium did not finish"); }
        return output.Result;
    }
}
