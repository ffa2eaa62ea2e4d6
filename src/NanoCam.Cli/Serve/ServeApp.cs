using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace NanoCam.Cli.Serve;

/// <summary>Where and how <c>nanocam serve</c> listens, and what it accepts.</summary>
public sealed record ServeSettings(IPAddress Address, int Port, long MaxUploadBytes, ImageFolder? Images);

/// <summary>
/// The web app of <c>nanocam serve</c>: the page at <c>/</c> and a small JSON API. Every refusal is
/// <c>{"error": "…"}</c> with a 4xx status; an unexpected failure is a 500 with one line, never a stack trace.
/// </summary>
public static class ServeApp
{
    /// <summary>The app, configured but not started (Kestrel on the address and port of <paramref name="settings"/>).</summary>
    public static WebApplication Build(ExplainService service, ServeSettings settings)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(settings.Address, settings.Port);
            k.Limits.MaxRequestBodySize = DrainLimit(settings.MaxUploadBytes);
            k.AddServerHeader = false;
        });
        var app = builder.Build();
        app.Use(async (context, next) =>
        {
            try { await next(context); }
            catch (Exception e) when (!context.Response.HasStarted)
            {
                (int status, string message) = e switch
                {
                    RequestException r => (r.Status, r.Message),
                    BadHttpRequestException { StatusCode: 413 } => (413, $"the upload is over the limit of {settings.MaxUploadBytes:N0} bytes (--max-upload-mb)"),
                    BadHttpRequestException b => (b.StatusCode, "the request could not be read"),
                    OperationCanceledException when context.RequestAborted.IsCancellationRequested => (499, "the client went away"),
                    _ => (500, $"internal error: {DisplayText.Quote(e.Message.ReplaceLineEndings(" "), 200)} ({e.GetType().Name})"),
                };
                context.Response.Clear();
                await Results.Json(new { error = message }, statusCode: status).ExecuteAsync(context);
            }
        });

        app.MapGet("/", () => Results.Content(ServePage.Html, "text/html; charset=utf-8"));
        app.MapGet("/api/model", () => Results.Json(service.Description, Json));
        app.MapGet("/api/images", () => Results.Json(new { images = settings.Images?.Names() ?? [] }, Json));
        app.MapGet("/api/images/{**name}", (string name) =>
        {
            var path = ResolveFolderImage(settings, name);
            var bytes = File.ReadAllBytes(path);
            var format = ImageHeader.Read(bytes)?.Format ?? throw new RequestException(415, $"'{DisplayText.Quote(name, 80)}' is not a PNG, JPEG or BMP image");
            return Results.Bytes(bytes, format switch { "PNG" => "image/png", "JPEG" => "image/jpeg", _ => "image/bmp" });
        });
        app.MapPost("/api/predict", async (HttpContext context) =>
        {
            var image = service.Decode(await ImageBytes(context, settings));
            return Results.Json(await Task.Run(() => service.Predict(image)), Json);
        });
        app.MapPost("/api/explain", async (HttpContext context) =>
        {
            var query = context.Request.Query;
            string method = query["method"].FirstOrDefault() ?? "gradcam";
            string? layer = query["layer"].FirstOrDefault() is { Length: > 0 } l ? l : null;
            int? cls = null;
            if (query["class"].FirstOrDefault() is { Length: > 0 } c)
                cls = int.TryParse(c, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var k) ? k
                    : throw new RequestException(400, $"class '{DisplayText.Quote(c, 40)}' is not a whole number");
            string? target = query["target"].FirstOrDefault() is { Length: > 0 } t ? t : null;
            string detectorLayout = query["detector-layout"].FirstOrDefault() is { Length: > 0 } d ? d : "yolo";
            service.Check(method, layer, cls); // an unknown method or layer is refused before the upload is read
            var image = service.Decode(await ImageBytes(context, settings));
            return Results.Json(await Task.Run(() => service.Explain(image, method, layer, cls, target, detectorLayout)), Json);
        });
        app.MapFallback((HttpContext context) => throw new RequestException(404, $"no such page or API: {context.Request.Method} {DisplayText.Quote(context.Request.Path.Value ?? "", 80)}"));
        return app;
    }

    // camelCase names; '+' and non-ASCII labels written as they are (the answers are JSON, never inlined into HTML).
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The URL the started app listens on (the real port when 0 was asked for).</summary>
    public static string Url(WebApplication app)
    {
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return address.EndsWith('/') ? address : address + "/";
    }

    /// <summary>The image of a request: the file of --images named by <c>?image=NAME</c>, else the body (413 over the upload limit).</summary>
    private static async Task<byte[]> ImageBytes(HttpContext context, ServeSettings settings)
    {
        if (context.Request.Query["image"].FirstOrDefault() is { } name)
            return await File.ReadAllBytesAsync(ResolveFolderImage(settings, name), context.RequestAborted);
        long limit = settings.MaxUploadBytes;
        var body = context.Request.Body;
        using var memory = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(buffer, context.RequestAborted)) > 0)
        {
            if (memory.Length + read > limit)
            {
                // Read the rest and drop it (up to the drain limit), so that the client, still sending, reads the 413
                // instead of a connection reset; past that the connection is closed after the answer.
                long seen = memory.Length + read;
                try
                {
                    while (seen <= DrainLimit(limit) && (read = await body.ReadAsync(buffer, context.RequestAborted)) > 0) seen += read;
                }
                catch (Microsoft.AspNetCore.Http.BadHttpRequestException) { }
                throw new RequestException(413, $"the upload is over the limit of {limit:N0} bytes (--max-upload-mb)");
            }
            memory.Write(buffer, 0, read);
        }
        return memory.ToArray();
    }

    /// <summary>How much of an upload over the limit is read and dropped before the 413 (4 × the limit, at most 256 MB more).</summary>
    private static long DrainLimit(long limit) => limit + Math.Min(3 * limit, 256L << 20);

    private static string ResolveFolderImage(ServeSettings settings, string name)
    {
        if (settings.Images is not { } folder) throw new RequestException(404, "no --images folder was given");
        try { return folder.Resolve(name); }
        catch (ArgumentException e) { throw new RequestException(400, e.Message); }
        catch (FileNotFoundException e) { throw new RequestException(404, e.Message); }
    }
}
