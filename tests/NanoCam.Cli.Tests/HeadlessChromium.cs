using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace NanoCam.Cli.Tests;

/// <summary>
/// Headless Chromium (Debian's <c>chromium</c>, installed by .ci/run) as the judge of the HTML pages the CLI writes:
/// whether a page loads without errors, whether its images decode, and what it looks like.
/// </summary>
internal static class HeadlessChromium
{
    /// <summary>What a loaded page reported: its &lt;img&gt; elements, how many decoded, and every error seen.</summary>
    public sealed record PageReport(int Images, int Decoded, IReadOnlyList<string> Errors);

    // Runs first in <head>: records console errors and warnings, script errors, failed resource loads and unhandled
    // rejections, then after load writes {images, decoded, errors} as JSON into the title for --dump-dom to carry out.
    private const string Probe =
        "<script>(()=>{const errors=[];const note=m=>errors.push(String(m));" +
        "console.error=(...a)=>note('console.error: '+a.join(' '));console.warn=(...a)=>note('console.warn: '+a.join(' '));" +
        "window.addEventListener('error',e=>note(e.message||('failed to load '+(e.target&&(e.target.currentSrc||e.target.src||e.target.tagName)).slice(0,80))),true);" +
        "window.addEventListener('unhandledrejection',e=>note('unhandled rejection: '+e.reason));" +
        "window.addEventListener('load',()=>{const i=[...document.images];" +
        "document.title=JSON.stringify({images:i.length,decoded:i.filter(x=>x.complete&&x.naturalWidth>0).length,errors});});})();</script>";

    /// <summary>
    /// Loads a copy of <paramref name="page"/> (written into <paramref name="workDirectory"/>) with the probe injected;
    /// anything the page itself writes to the console (Chromium's CONSOLE log lines) counts as an error too.
    /// </summary>
    public static PageReport Check(string page, string workDirectory)
    {
        var html = File.ReadAllText(page);
        int head = html.IndexOf("<head>", StringComparison.Ordinal);
        Assert.True(head >= 0, $"{page} has no <head>");
        var probed = Path.Combine(workDirectory, "probed-" + Path.GetFileName(page));
        File.WriteAllText(probed, html.Insert(head + "<head>".Length, Probe));
        var (dom, log) = Run("--enable-logging=stderr", "--v=0", "--dump-dom", new Uri(probed).AbsoluteUri);
        var title = Regex.Match(dom, "<title>(.*?)</title>", RegexOptions.Singleline);
        Assert.True(title.Success, $"chromium returned no document for {page}:\n{log}");
        using var report = JsonDocument.Parse(WebUtility.HtmlDecode(title.Groups[1].Value));
        var errors = report.RootElement.GetProperty("errors").EnumerateArray().Select(e => e.GetString()!).ToList();
        errors.AddRange(log.Split('\n').Where(l => l.Contains(":CONSOLE", StringComparison.Ordinal)));
        return new PageReport(report.RootElement.GetProperty("images").GetInt32(), report.RootElement.GetProperty("decoded").GetInt32(), errors);
    }

    /// <summary>A PNG screenshot of <paramref name="page"/> in a window of the given size.</summary>
    public static void Screenshot(string page, string png, int width, int height)
    {
        var (_, log) = Run("--hide-scrollbars", $"--window-size={width},{height}", $"--screenshot={Path.GetFullPath(png)}", new Uri(Path.GetFullPath(page)).AbsoluteUri);
        Assert.True(File.Exists(png) && new FileInfo(png).Length > 0, $"chromium wrote no screenshot:\n{log}");
    }

    private static (string Stdout, string Stderr) Run(params string[] args)
    {
        var info = new ProcessStartInfo("chromium") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000" }.Concat(args)) info.ArgumentList.Add(a);
        using var process = Process.Start(info) ?? throw new InvalidOperationException("chromium could not be started (Debian package 'chromium')");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000)) { process.Kill(true); throw new TimeoutException("chromium did not finish"); }
        return (output.Result, errors.Result);
    }
}
