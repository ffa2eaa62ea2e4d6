using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using NanoCam.Cli.Shared;
using NanoCam.Imaging;
using Xunit.Abstractions;

namespace NanoCam.Cli.Tests;

/// <summary>
/// The gallery explain-dataset writes beside its table: index.html embeds exactly the table's rows and names thumbnails
/// that exist; in headless Chromium it shows one page of cards, sorts, pages and decodes its images; built for 10,000
/// rows it keeps one page in the DOM and sorts in well under a second.
/// </summary>
public sealed partial class GalleryTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-gallery").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly string Shapes = Path.Combine(CliHarness.Weights, "shapes-vgg.safetensors");

    private string Explain(string range)
    {
        string folder = Path.Combine(_dir, "run");
        var run = CliHarness.Run("explain-dataset", "--model", Shapes, "--data", range, "--methods", "gradcam,gradcam++", "--chunk", "16",
            "--threads", "1", "--csv", "--out", folder);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("and the gallery index.html", run.Stdout);
        return folder;
    }

    [GeneratedRegex("<script type=\"application/json\" id=\"rows\">(.*?)</script>", RegexOptions.Singleline)]
    private static partial Regex RowsElement();

    private static JsonElement[] EmbeddedRows(string html) =>
        [.. JsonDocument.Parse(RowsElement().Match(html) is { Success: true } m ? m.Groups[1].Value : throw new Xunit.Sdk.XunitException("no rows element")).RootElement.EnumerateArray()];

    [Fact]
    public void IndexHtml_EmbedsExactlyTheTablesRows_AndEveryThumbnailItNamesExists()
    {
        string folder = Explain("shapes#0-40");
        var html = File.ReadAllText(Path.Combine(folder, "index.html"));
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("https://", html);
        var embedded = EmbeddedRows(html);
        var (rows, _) = ResultsTable.ReadParquet(Path.Combine(folder, "results.parquet"));
        var csv = File.ReadAllLines(Path.Combine(folder, "results.csv"))[1..];
        Assert.Equal(80, rows.Count);
        Assert.Equal(rows.Count, embedded.Length);
        Assert.Equal(rows.Count, csv.Length);
        for (int i = 0; i < rows.Count; i++)
        {
            var (r, e) = (rows[i], embedded[i]);
            Assert.Equal(r.File, e.GetProperty("file").GetString());
            Assert.Equal(r.Index, e.GetProperty("index").GetInt64());
            Assert.Equal(r.Method, e.GetProperty("method").GetString());
            Assert.Equal(r.Target, e.GetProperty("target").GetString());
            Assert.Equal(r.Class, e.GetProperty("class").GetInt32());
            Assert.Equal(r.ClassName, e.GetProperty("class_name").GetString());
            Assert.Equal(r.Label, e.GetProperty("label").ValueKind == JsonValueKind.Null ? null : e.GetProperty("label").GetInt32());
            Assert.Equal(r.Score, e.GetProperty("score").GetSingle());
            Assert.Equal(r.Probability, e.GetProperty("probability").GetSingle());
            Assert.Equal(r.MapFile, e.GetProperty("map_file").GetString());
            Assert.Equal(r.MapIndex, e.GetProperty("map_index").GetInt32());
            // The CSV row carries the same score, as the page shows it.
            Assert.Equal(r.Score, float.Parse(csv[i].Split(',')[7], CultureInfo.InvariantCulture));
            foreach (var name in new[] { "thumbnail", "overlay" })
            {
                string path = Path.Combine(folder, e.GetProperty(name).GetString()!);
                Assert.True(File.Exists(path), path);
                var thumbnail = ImageCodec.Load(path);
                Assert.InRange(Math.Max(thumbnail.Width, thumbnail.Height), 1, Gallery.ThumbnailSize);
            }
        }
        Assert.Equal(40, embedded.Select(e => e.GetProperty("thumbnail").GetString()).Distinct().Count());
        Assert.Equal(80, embedded.Select(e => e.GetProperty("overlay").GetString()).Distinct().Count());
        Assert.Empty(Directory.GetFiles(folder, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void Merge_WhereTheImagesCannotBeRead_WritesTheGalleryWithMapOnlyOverlays_AndSaysSoInOneLine()
    {
        string folder = Path.Combine(_dir, "moved");
        var run = CliHarness.Run("explain-dataset", "--model", Shapes, "--data", "shapes#0-16", "--chunk", "16", "--threads", "1", "--out", folder);
        Assert.True(run.ExitCode == 0, run.Stderr);
        // As if the run had read a relative folder that is not there from where merge runs.
        string settings = Path.Combine(folder, "run.json");
        File.WriteAllText(settings, File.ReadAllText(settings).Replace("\"shapes#0-16\"", "\"folder-not-here\""));
        string merged = Path.Combine(_dir, "merged");
        var merge = CliHarness.Run("merge", folder, "--out", merged);
        Assert.True(merge.ExitCode == 0, merge.Stderr);
        Assert.Single(merge.Stderr.Trim().Split('\n'));
        Assert.StartsWith("gallery: the images of 'folder-not-here' cannot be read here", merge.Stderr.Trim());
        var embedded = EmbeddedRows(File.ReadAllText(Path.Combine(merged, "index.html")));
        Assert.Equal(16, embedded.Length);
        Assert.All(embedded, e => Assert.Equal(JsonValueKind.Null, e.GetProperty("thumbnail").ValueKind));
        Assert.All(embedded, e => Assert.True(File.Exists(Path.Combine(merged, e.GetProperty("overlay").GetString()!))));
        Assert.False(Directory.Exists(Path.Combine(merged, "thumbs", "input")));
    }

    [Fact]
    public async Task Page_InChromium_ShowsOnePage_DecodesItsImages_SortsByScoreDescending_AndPages()
    {
        string folder = Explain("shapes#0-120");
        var (rows, _) = ResultsTable.ReadParquet(Path.Combine(folder, "results.parquet"));
        Assert.Equal(240, rows.Count);
        await using var page = await DevToolsPage.Open(new Uri(Path.Combine(folder, "index.html")));
        await page.WaitFor("document.querySelectorAll('#grid > .card').length > 0", TimeSpan.FromSeconds(30));

        Assert.Equal(50, (await page.Evaluate("document.querySelectorAll('.card').length")).GetInt32());
        Assert.Equal(100, (await page.Evaluate("document.querySelectorAll('img').length")).GetInt32());
        Assert.Equal("page 1 of 5", (await page.Evaluate("document.getElementById('page').textContent")).GetString());
        Assert.Equal("lazy", (await page.Evaluate("[...new Set([...document.images].map(i => i.loading))].join()")).GetString());
        // Every image of the page decodes (made eager so that those below the fold load too).
        var decoded = await page.Evaluate("Promise.all([...document.images].map(i => { i.loading = 'eager'; return i.decode().then(() => i.naturalWidth > 0, () => false); })).then(ok => ok.filter(x => x).length)");
        Assert.Equal(100, decoded.GetInt32());

        string firstPageRows = "[...document.querySelectorAll('.card')].map(c => +c.dataset.row)";
        Assert.Equal(Enumerable.Range(0, 50), (await page.Evaluate(firstPageRows)).EnumerateArray().Select(e => e.GetInt32()));
        await page.Select("#sort", "score");
        var scores = (await page.Evaluate("[...document.querySelectorAll('.card')].map(c => +c.dataset.score)")).EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(50, scores.Length);
        var expected = rows.Select(r => (double)r.Score).OrderDescending().Take(50).ToArray();
        Assert.Equal(expected, scores, (a, b) => Math.Abs(a - b) <= 1e-6 * Math.Max(1, Math.Abs(a)));

        await page.Click("#next");
        await page.WaitFor("document.getElementById('page').textContent === 'page 2 of 5'", TimeSpan.FromSeconds(10));
        var second = (await page.Evaluate("[...document.querySelectorAll('.card')].map(c => +c.dataset.score)")).EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(50, second.Length);
        Assert.Equal(rows.Select(r => (double)r.Score).OrderDescending().Skip(50).Take(50), second, (a, b) => Math.Abs(a - b) <= 1e-6 * Math.Max(1, Math.Abs(a)));
        Assert.Equal(50, (await page.Evaluate("document.querySelectorAll('.card').length")).GetInt32());

        string png = Path.Combine(_dir, "gallery.png");
        await page.Screenshot(png);
        var shot = ImageCodec.Load(png);
        output.WriteLine($"screenshot {shot.Width}×{shot.Height}");
        Assert.True(shot.Pixels.Distinct().Count() > 16, "the screenshot is blank");
        Assert.Empty(page.Errors);
    }

    [Fact]
    public async Task TenThousandRows_KeepOnePageInTheDom_AndSortInUnderHalfASecond()
    {
        var random = new Random(18);
        string[] methods = ["gradcam", "scorecam"];
        var rows = Enumerable.Range(0, 10_000).Select(i => new ResultRow($"shapes#{i / 2}", i / 2, methods[i % 2], "predicted", i % 3, $"class{i % 3}", i % 3,
            (float)(random.NextDouble() * 20 - 5), (float)random.NextDouble(), $"maps/{methods[i % 2]}/chunk-{i / 128:D5}.npy", i / 2 % 64)
        {
            DeletionAuc = random.NextDouble(), InsertionAuc = random.NextDouble(), DropPercent = random.NextDouble() * 100, Increase = random.Next(2) == 1,
            PointingHit = i % 7 == 0 ? null : random.Next(2) == 1, LocalizationHit = random.Next(2) == 1,
        }).ToArray();
        var clock = Stopwatch.StartNew();
        string html = Gallery.Html(rows, metrics: true, "10,000 synthetic rows", _ => false);
        output.WriteLine($"page for 10,000 rows built in {clock.Elapsed.TotalMilliseconds:F0} ms, {html.Length / 1e6:F1} MB");
        Assert.Equal(10_000, EmbeddedRows(html).Length);
        string path = Path.Combine(_dir, "index.html");
        File.WriteAllText(path, html);

        await using var page = await DevToolsPage.Open(new Uri(path));
        await page.WaitFor("document.querySelectorAll('#grid > .card').length > 0", TimeSpan.FromSeconds(30));
        Assert.Equal(50, (await page.Evaluate("document.querySelectorAll('.card').length")).GetInt32());
        Assert.Equal("page 1 of 200", (await page.Evaluate("document.getElementById('page').textContent")).GetString());
        foreach (var column in new[] { "score", "deletion_auc", "pointing_hit" })
        {
            double ms = (await page.Evaluate($$"""
                (() => { const s = document.getElementById('sort'); const t = performance.now();
                  s.value = '{{column}}'; s.dispatchEvent(new Event('change')); return performance.now() - t; })()
                """)).GetDouble();
            output.WriteLine($"sort by {column} and render page 1 in Chromium: {ms:F1} ms");
            Assert.InRange(ms, 0, 500);
            Assert.Equal(50, (await page.Evaluate("document.querySelectorAll('.card').length")).GetInt32());
        }
        var top = (await page.Evaluate("[...document.querySelectorAll('.card')].map(c => +c.dataset.row)")).EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.Equal(rows.Select((r, i) => (r, i)).Where(p => p.r.PointingHit == true).Select(p => p.i).Take(50), top);
    }
}
