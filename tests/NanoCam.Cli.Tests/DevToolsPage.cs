using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace NanoCam.Cli.Tests;

/// <summary>
/// A page in real headless Chromium (Debian's <c>chromium</c>, no browser download), driven over the DevTools protocol
/// on a WebSocket: evaluate script, set a file input, click at an element's position, and collect every console error,
/// script exception and failed load the page reports.
/// </summary>
internal sealed partial class DevToolsPage : IAsyncDisposable
{
    private readonly Process _browser;
    private readonly ClientWebSocket _socket = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly string _profile;
    private Task? _receiving;
    private int _nextId;

    /// <summary>Console errors, uncaught exceptions and failed loads, as the page reported them.</summary>
    public ConcurrentQueue<string> Errors { get; } = new();

    private DevToolsPage(Process browser, string profile)
    {
        _browser = browser;
        _profile = profile;
    }

    /// <summary>Starts Chromium on <paramref name="url"/> and attaches to its page.</summary>
    public static async Task<DevToolsPage> Open(Uri url)
    {
        var profile = Directory.CreateTempSubdirectory("nanocam-chromium-profile").FullName;
        var info = new ProcessStartInfo("chromium") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-debugging-port=0",
                     $"--user-data-dir={profile}", "--window-size=1280,1400", "about:blank" })
            info.ArgumentList.Add(a);
        var browser = Process.Start(info) ?? throw new InvalidOperationException("chromium could not be started (Debian package 'chromium')");
        var page = new DevToolsPage(browser, profile);
        _ = browser.StandardOutput.ReadToEndAsync();
        // "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID" on stderr.
        string? endpoint = null;
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (endpoint is null && DateTime.UtcNow < deadline)
        {
            var line = await browser.StandardError.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(1));
            if (line is null) break;
            if (Listening().Match(line) is { Success: true } m) endpoint = m.Groups[1].Value;
        }
        if (endpoint is null) { await page.DisposeAsync(); throw new InvalidOperationException("chromium did not open its DevTools port"); }
        _ = browser.StandardError.ReadToEndAsync();

        using var http = new HttpClient();
        var targets = JsonDocument.Parse(await http.GetStringAsync($"http://{endpoint}/json/list"));
        var pageTarget = targets.RootElement.EnumerateArray().First(t => t.GetProperty("type").GetString() == "page");
        await page._socket.ConnectAsync(new Uri(pageTarget.GetProperty("webSocketDebuggerUrl").GetString()!), CancellationToken.None);
        page._receiving = Task.Run(page.Receive);
        await page.Send("Runtime.enable");
        await page.Send("Log.enable");
        await page.Send("Page.enable");
        await page.Send("Page.navigate", new JsonObject { ["url"] = url.AbsoluteUri });
        await page.WaitFor("document.readyState === 'complete'", TimeSpan.FromSeconds(30));
        return page;
    }

    [GeneratedRegex(@"DevTools listening on ws://([^/\s]+)/")]
    private static partial Regex Listening();

    /// <summary>One DevTools command; its result, or an exception with the protocol's error.</summary>
    public async Task<JsonElement> Send(string method, JsonObject? parameters = null)
    {
        int id = Interlocked.Increment(ref _nextId);
        var reply = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? new JsonObject() };
        await _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, _stop.Token);
        return await reply.Task.WaitAsync(TimeSpan.FromMinutes(2));
    }

    /// <summary>Evaluates <paramref name="expression"/> in the page (awaiting a promise) and returns its value.</summary>
    public async Task<JsonElement> Evaluate(string expression)
    {
        var result = await Send("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["returnByValue"] = true, ["awaitPromise"] = true });
        if (result.TryGetProperty("exceptionDetails", out var exception))
            throw new InvalidOperationException($"page script failed: {exception}");
        return result.GetProperty("result").TryGetProperty("value", out var value) ? value : default;
    }

    /// <summary>Polls <paramref name="condition"/> until it is true; a timeout fails with <paramref name="describe"/>'s value.</summary>
    public async Task WaitFor(string condition, TimeSpan timeout, string describe = "document.body ? document.body.innerText.slice(0, 400) : ''")
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await Evaluate($"!!({condition})") is { ValueKind: JsonValueKind.True }) return;
            await Task.Delay(100);
        }
        throw new TimeoutException($"'{condition}' did not become true in {timeout.TotalSeconds:F0} s; page: {await Evaluate(describe)}");
    }

    /// <summary>Sets the files of the &lt;input type=file&gt; matching <paramref name="selector"/> (fires its change event).</summary>
    public async Task SetInputFiles(string selector, params string[] files)
    {
        var root = await Send("DOM.getDocument");
        var node = await Send("DOM.querySelector", new JsonObject { ["nodeId"] = root.GetProperty("root").GetProperty("nodeId").GetInt32(), ["selector"] = selector });
        await Send("DOM.setFileInputFiles", new JsonObject { ["nodeId"] = node.GetProperty("nodeId").GetInt32(), ["files"] = new JsonArray([.. files.Select(f => (JsonNode)f)]) });
    }

    /// <summary>A left click with the mouse at the centre of the element matching <paramref name="selector"/>.</summary>
    public async Task Click(string selector)
    {
        var box = await Evaluate($"(() => {{ const e = document.querySelector('{selector}'); e.scrollIntoView(); const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }})()");
        double x = box[0].GetDouble(), y = box[1].GetDouble();
        foreach (var type in new[] { "mousePressed", "mouseReleased" })
            await Send("Input.dispatchMouseEvent", new JsonObject { ["type"] = type, ["x"] = x, ["y"] = y, ["button"] = "left", ["clickCount"] = 1 });
    }

    /// <summary>Chooses <paramref name="value"/> in the &lt;select&gt; matching <paramref name="selector"/>, as a user's pick does (a change event).</summary>
    public Task Select(string selector, string value) =>
        Evaluate($"(() => {{ const s = document.querySelector('{selector}'); if (![...s.options].some(o => o.value === {JsonSerializer.Serialize(value)})) throw new Error('no option ' + {JsonSerializer.Serialize(value)}); s.value = {JsonSerializer.Serialize(value)}; s.dispatchEvent(new Event('change', {{ bubbles: true }})); }})()");

    /// <summary>A PNG of the whole page as it is now.</summary>
    public async Task Screenshot(string png)
    {
        var shot = await Send("Page.captureScreenshot", new JsonObject { ["format"] = "png", ["captureBeyondViewport"] = true });
        await File.WriteAllBytesAsync(png, Convert.FromBase64String(shot.GetProperty("data").GetString()!));
    }

    private async Task Receive()
    {
        var buffer = new byte[1 << 16];
        using var message = new MemoryStream();
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                var part = await _socket.ReceiveAsync(buffer, _stop.Token);
                if (part.MessageType == WebSocketMessageType.Close) break;
                message.Write(buffer, 0, part.Count);
                if (!part.EndOfMessage) continue;
                using var json = JsonDocument.Parse(message.ToArray());
                message.SetLength(0);
                var root = json.RootElement;
                if (root.TryGetProperty("id", out var id) && _pending.TryRemove(id.GetInt32(), out var reply))
                {
                    if (root.TryGetProperty("error", out var error)) reply.SetException(new InvalidOperationException($"DevTools: {error}"));
                    else reply.SetResult(root.GetProperty("result").Clone());
                }
                else if (root.TryGetProperty("method", out var method)) Note(method.GetString()!, root.GetProperty("params"));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException) { }
    }

    private void Note(string method, JsonElement parameters)
    {
        switch (method)
        {
            case "Runtime.exceptionThrown":
                Errors.Enqueue($"exception: {parameters.GetProperty("exceptionDetails")}");
                break;
            case "Runtime.consoleAPICalled" when parameters.GetProperty("type").GetString() is "error" or "warning" or "assert":
                Errors.Enqueue($"console.{parameters.GetProperty("type").GetString()}: {parameters.GetProperty("args")}");
                break;
            case "Log.entryAdded" when parameters.GetProperty("entry").GetProperty("level").GetString() is "error" or "warning":
                Errors.Enqueue($"log: {parameters.GetProperty("entry").GetProperty("text").GetString()}");
                break;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        if (_receiving is not null) await _receiving.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { });
        _socket.Dispose();
        if (!_browser.HasExited) _browser.Kill(true);
        _browser.WaitForExit(10_000);
        _browser.Dispose();
        try { Directory.Delete(_profile, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
