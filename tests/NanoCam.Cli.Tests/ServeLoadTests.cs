using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Xunit.Abstractions;

namespace NanoCam.Cli.Tests;

/// <summary>
/// <c>nanocam serve</c> under load: 200 requests from 8 concurrent clients, a quarter of them malformed (a truncated PNG,
/// a 100-megapixel header, paths with <c>..</c>, unknown methods and layers, an upload over the limit, bytes that are
/// no image). Every good request gets exactly the answer it gets alone, every bad one a 4xx with a JSON error, and the
/// server is still up afterwards and stops cleanly on SIGTERM.
/// </summary>
public sealed class ServeLoadTests(ITestOutputHelper output)
{
    private const int Requests = 200, Clients = 8;

    /// <summary>One request: how to send it, and for a bad one the status range it must get.</summary>
    private sealed record Probe(string Name, HttpMethod Method, string Path, byte[]? Body, bool Good);

    [Fact]
    public async Task TwoHundredRequestsFromEightClients_GoodOnesAnsweredAsAlone_BadOnes4xx_ServerStaysUp()
    {
        var both = File.ReadAllBytes(ServeProcess.Image("both.png"));
        var good = new[]
        {
            new Probe("predict upload", HttpMethod.Post, "api/predict", both, true),
            new Probe("predict folder image", HttpMethod.Post, "api/predict?image=fish.png", null, true),
            new Probe("gradcam upload", HttpMethod.Post, "api/explain?class=243&method=gradcam&layer=fire9%2Fconcat_1", both, true),
            new Probe("cam folder image", HttpMethod.Post, "api/explain?class=281&method=cam&layer=fire9%2Fconcat_1&image=kitten_224.png", null, true),
            new Probe("layercam default layer, top class", HttpMethod.Post, "api/explain?method=layercam", both, true),
            new Probe("folder image bytes", HttpMethod.Get, "api/images/both.png", null, true),
        };
        var bad = new[]
        {
            new Probe("truncated PNG", HttpMethod.Post, "api/predict", both[..2000], false),
            new Probe("100-megapixel header", HttpMethod.Post, "api/explain?method=gradcam", HundredMegapixelHeader(), false),
            new Probe("'..' in ?image", HttpMethod.Post, "api/predict?image=..%2Fmodels%2Fimagenet_labels.txt", null, false),
            new Probe("'..' in an image path", HttpMethod.Get, "api/images/..%2F..%2F..%2Fetc%2Fpasswd", null, false),
            new Probe("absolute ?image", HttpMethod.Post, "api/explain?image=%2Fetc%2Fpasswd", null, false),
            new Probe("unknown method", HttpMethod.Post, "api/explain?method=deepdream", both, false),
            new Probe("unknown layer", HttpMethod.Post, "api/explain?method=gradcam&layer=fire42%2Fconcat_1", both, false),
            new Probe("class out of range", HttpMethod.Post, "api/explain?class=1000", both, false),
            new Probe("upload over the limit", HttpMethod.Post, "api/predict", new byte[3 * 1024 * 1024 / 2], false),
            new Probe("not an image", HttpMethod.Post, "api/predict", "%PDF-1.4 not an image"u8.ToArray(), false),
        };
        // 150 good and 50 bad, shuffled with a fixed seed.
        var random = new Random(18);
        var plan = Enumerable.Range(0, Requests).Select(i => i % 4 == 3 ? bad[i / 4 % bad.Length] : good[i % good.Length]).OrderBy(_ => random.Next()).ToArray();

        using var server = ServeProcess.Start(["--model", ServeProcess.SqueezeNet, "--threads", "1", "--max-upload-mb", "1",
            "--images", Path.Combine(CliHarness.SharedData, "images"), .. ServeProcess.SqueezeNetPreprocessing]);

        // Each good request alone first: the answer every concurrent one must equal.
        var alone = new Dictionary<string, byte[]>();
        using (var client = new HttpClient { BaseAddress = server.Url, Timeout = TimeSpan.FromMinutes(2) })
            foreach (var probe in good)
            {
                var (status, body, _) = await Send(client, probe);
                Assert.True(status == HttpStatusCode.OK, $"{probe.Name}: {(int)status} {System.Text.Encoding.UTF8.GetString(body)}");
                alone[probe.Name] = body;
            }

        var queue = new ConcurrentQueue<Probe>(plan);
        var results = new ConcurrentBag<(Probe Probe, HttpStatusCode Status, byte[] Body, double Ms)>();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(_ => Task.Run(async () =>
        {
            using var client = new HttpClient { BaseAddress = server.Url, Timeout = TimeSpan.FromMinutes(5) };
            while (queue.TryDequeue(out var probe))
            {
                var (status, body, ms) = await Send(client, probe);
                results.Add((probe, status, body, ms));
            }
        })));
        clock.Stop();

        Assert.Equal(Requests, results.Count);
        var failures = new List<string>();
        foreach (var (probe, status, body, _) in results)
        {
            if (probe.Good && (status != HttpStatusCode.OK || !body.AsSpan().SequenceEqual(alone[probe.Name])))
                failures.Add($"{probe.Name}: {(int)status}, {(status == HttpStatusCode.OK ? "an answer that differs from the one alone" : System.Text.Encoding.UTF8.GetString(body))}");
            if (!probe.Good && ((int)status is < 400 or >= 500 || !IsJsonError(body)))
                failures.Add($"{probe.Name}: {(int)status} {System.Text.Encoding.UTF8.GetString(body[..Math.Min(body.Length, 200)])}");
        }
        foreach (var group in results.GroupBy(r => r.Probe.Name).OrderBy(g => g.Key))
        {
            var ms = group.Select(r => r.Ms).Order().ToArray();
            output.WriteLine($"{group.Key,-36} {group.Count(),3} × {string.Join(",", group.Select(r => (int)r.Status).Distinct())}  median {ms[ms.Length / 2],7:F0} ms  max {ms[^1],7:F0} ms");
        }
        output.WriteLine($"{results.Count(r => r.Probe.Good)} good, {results.Count(r => !r.Probe.Good)} bad, {Clients} clients, {clock.Elapsed.TotalSeconds:F1} s in all");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));

        using (var client = new HttpClient { BaseAddress = server.Url })
        {
            var model = await client.GetAsync("api/model");
            Assert.Equal(HttpStatusCode.OK, model.StatusCode);
            using var json = JsonDocument.Parse(await model.Content.ReadAsStringAsync());
            Assert.Equal(1000, json.RootElement.GetProperty("classes").GetInt32());
        }
        Assert.False(server.HasExited);
        Assert.Equal(0, server.Stop());
    }

    private static async Task<(HttpStatusCode Status, byte[] Body, double Ms)> Send(HttpClient client, Probe probe)
    {
        var clock = Stopwatch.StartNew();
        using var request = new HttpRequestMessage(probe.Method, probe.Path);
        if (probe.Method == HttpMethod.Post) request.Content = new ByteArrayContent(probe.Body ?? []);
        try
        {
            using var response = await client.SendAsync(request);
            var body = await response.Content.ReadAsByteArrayAsync();
            return (response.StatusCode, body, clock.Elapsed.TotalMilliseconds);
        }
        catch (HttpRequestException e)
        {
            // No answer at all (a reset connection) is a failure of its own, reported with the others.
            return (0, System.Text.Encoding.UTF8.GetBytes($"no answer: {e.Message} {e.InnerException?.Message}"), clock.Elapsed.TotalMilliseconds);
        }
    }

    private static bool IsJsonError(byte[] body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.TryGetProperty("error", out var error) && error.GetString() is { Length: > 0 } message && !message.Contains("   at ");
        }
        catch (JsonException) { return false; }
    }

    /// <summary>A PNG signature and a valid IHDR chunk saying 10,000 × 10,000 RGB pixels, and nothing after it.</summary>
    private static byte[] HundredMegapixelHeader()
    {
        var png = new byte[8 + 25];
        new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }.CopyTo(png, 0);
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(8), 13);
        "IHDR"u8.CopyTo(png.AsSpan(12));
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(16), 10_000);
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(20), 10_000);
        png[24] = 8; // bit depth
        png[25] = 2; // colour type RGB
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(29), Crc32(png.AsSpan(12, 17)));
        return png;
    }

    /// <summary>The CRC-32 of PNG chunks (ISO 3309, polynomial 0xEDB88320, reflected).</summary>
    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (int bit = 0; bit < 8; bit++) crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }
}
