using System.Globalization;
using Xunit.Abstractions;

namespace NanoCam.Cli.Tests;

/// <summary>
/// <c>nanocam serve</c> as a user meets it: the page in real headless Chromium, an image uploaded through its file input,
/// a class, a method and a layer picked, Explain clicked with the mouse; the overlay and map the page shows must be
/// <c>nanocam explain</c>'s for the same request.
/// </summary>
public sealed class ServePageTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-serve-page").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Page_UploadsBothPng_PicksClassMethodLayer_AndShowsExplainsMap()
    {
        const string cls = "254", method = "gradcam", layer = "fire9/concat_1"; // the second class (pug), a 13×13 layer
        using var server = ServeProcess.Start(["--model", ServeProcess.SqueezeNet, "--threads", "1", "--images", Path.Combine(CliHarness.SharedData, "images"),
            .. ServeProcess.SqueezeNetPreprocessing]);
        await using (var page = await DevToolsPage.Open(server.Url))
        {
            await page.WaitFor("document.getElementById('layer').options.length > 0", TimeSpan.FromSeconds(30));
            await page.SetInputFiles("#file", ServeProcess.Image("both.png"));
            await page.WaitFor("document.getElementById('class').options.length === 5", TimeSpan.FromSeconds(60));
            var top5 = (await page.Evaluate("[...document.querySelectorAll('#top5 li')].map(li => li.textContent)")).EnumerateArray().Select(e => e.GetString()!).ToArray();
            output.WriteLine(string.Join("\n", top5));
            Assert.StartsWith("243 bull mastiff", top5[0]);
            Assert.StartsWith("254 pug", top5[1]);

            await page.Select("#class", cls);
            await page.Select("#method", method);
            await page.Select("#layer", layer);
            await page.Click("#explain");
            await page.WaitFor("['done', 'error'].includes(document.getElementById('status').dataset.state)", TimeSpan.FromMinutes(2));
            var status = await page.Evaluate("[document.getElementById('status').dataset.state, document.getElementById('status').textContent]");
            Assert.True(status[0].GetString() == "done", $"the page says: {status[1].GetString()}");

            var shown = await page.Evaluate("(() => { const o = document.getElementById('overlay'); return { complete: o.complete, width: o.naturalWidth, height: o.naturalHeight, src: o.src, map: o.dataset.map, mapWidth: +o.dataset.mapWidth, cls: o.dataset.class, method: o.dataset.method, layer: o.dataset.layer, raw: [document.getElementById('raw').width, document.getElementById('raw').height], weights: document.querySelectorAll('#weights rect').length, weightsShown: !document.getElementById('weights-box').hidden }; })()");
            Assert.True(shown.GetProperty("complete").GetBoolean());
            Assert.Equal((224, 224), (shown.GetProperty("width").GetInt32(), shown.GetProperty("height").GetInt32()));
            Assert.Equal((cls, method, layer), (shown.GetProperty("cls").GetString(), shown.GetProperty("method").GetString(), shown.GetProperty("layer").GetString()));
            Assert.Equal([13, 13], shown.GetProperty("raw").EnumerateArray().Select(v => v.GetInt32()));
            Assert.True(shown.GetProperty("weightsShown").GetBoolean() && shown.GetProperty("weights").GetInt32() == 24, "Grad-CAM's channel weights are drawn");
            Assert.Empty(page.Errors);

            // The same request on the command line.
            var npy = Path.Combine(_dir, "map.npy");
            var png = Path.Combine(_dir, "overlay.png");
            var (code, _, stderr) = CliHarness.Run(["explain", "--model", ServeProcess.SqueezeNet, "--image", ServeProcess.Image("both.png"), "--class", cls,
                "--method", method, "--layer", layer, "--save-map", npy, "--out", png, "--threads", "1", .. ServeProcess.SqueezeNetPreprocessing]);
            Assert.True(code == 0, stderr);
            var (expected, shape) = Imaging.Npy.Read(npy);
            Assert.Equal([224, 224], shape);
            var pageMap = shown.GetProperty("map").GetString()!.Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(expected.Length, pageMap.Length);
            double maxDelta = expected.Zip(pageMap, (a, b) => Math.Abs((double)a - b)).Max(), r = Pearson(expected, pageMap);
            output.WriteLine($"page map vs explain --save-map: max |Δ| {maxDelta:G3}, Pearson r {r:F6}");
            Assert.True(r >= 0.999 || maxDelta <= 1e-4, $"the page's map is not explain's: r {r}, max |Δ| {maxDelta}");

            // The overlay the page shows is explain's overlay, pixel for pixel (within one 8-bit step).
            var src = shown.GetProperty("src").GetString()!;
            var pageOverlay = Imaging.ImageCodec.Decode(Convert.FromBase64String(src[(src.IndexOf(',') + 1)..]));
            var cliOverlay = Imaging.ImageCodec.Load(png);
            float pixelDelta = pageOverlay.Pixels.Zip(cliOverlay.Pixels, (a, b) => Math.Abs(a - b)).Max();
            Assert.True(pixelDelta <= 1.5f / 255, $"overlay pixels differ by up to {pixelDelta * 255:F1}/255");

            // NANOCAM_SERVE_SCREENSHOT=FILE.png keeps a picture of the page for a person to look at.
            if (Environment.GetEnvironmentVariable("NANOCAM_SERVE_SCREENSHOT") is { Length: > 0 } screenshot) await page.Screenshot(screenshot);

            // An image of --images picked from the page's list, and CAM, which moves the layer to the one its weights apply to.
            await page.Select("#folder", "kitten_224.png");
            await page.WaitFor("document.querySelector('#top5 li') && document.querySelector('#top5 li').textContent.startsWith('281 tabby')", TimeSpan.FromSeconds(60));
            await page.Select("#method", "cam");
            Assert.Equal(layer, (await page.Evaluate("document.getElementById('layer').value")).GetString());
            await page.Click("#explain");
            await page.WaitFor("document.getElementById('overlay').dataset.method === 'cam' && document.getElementById('status').dataset.state === 'done'", TimeSpan.FromMinutes(2));
            var cam = await page.Evaluate("[document.getElementById('overlay').dataset.class, document.getElementById('score-line').textContent]");
            Assert.Equal("281", cam[0].GetString());
            Assert.Contains("rebuilt from the maps", cam[1].GetString());
            output.WriteLine(cam[1].GetString());
            Assert.Empty(page.Errors);
        }
        Assert.Equal(0, server.Stop());
    }

    [Fact]
    public async Task DevToolsPage_SeesAConsoleErrorAndAnUncaughtException()
    {
        // The judge itself: a page with errors must not pass as clean, or the serve test's "no errors" means nothing.
        await using var page = await DevToolsPage.Open(new Uri("data:text/html,<title>t</title><script>console.error('boom');setTimeout(()=>{throw new Error('bang')},0)</script>"));
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (page.Errors.Count < 2 && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.Contains(page.Errors, e => e.Contains("boom"));
        Assert.Contains(page.Errors, e => e.Contains("bang"));
    }

    private static double Pearson(float[] a, float[] b)
    {
        double ma = a.Average(), mb = b.Average(), sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.Length; i++) { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) * (a[i] - ma); sbb += (b[i] - mb) * (b[i] - mb); }
        return sab / Math.Sqrt(saa * sbb);
    }
}
