using System.CommandLine;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using NanoCam.Cli.Serve;
using NanoCam.Cli.Shared;
using NanoCam.Imaging;

namespace NanoCam.Cli.Commands;

/// <summary>
/// <c>nanocam serve</c>: a local web page to explain a model live — drop an image (or pick one of <c>--images</c>), read
/// the top-5, pick class, method and layer, see the overlay, the raw map and the channel weights. Binds to 127.0.0.1
/// unless <c>--host</c> says otherwise; the first line on stdout is the URL (port 0 picks a free port).
/// </summary>
public static class ServeCommand
{
    public static Command Create()
    {
        var model = CliOptions.Model();
        var port = CliOptions.Make("--port", "TCP port to listen on (0: a free port, printed on the first line)", 8080);
        var host = CliOptions.Make("--host", "address to bind: 127.0.0.1 (this machine only), localhost, or an IP address such as 0.0.0.0 (every interface)", "127.0.0.1");
        var images = CliOptions.Make<string?>("--images", "a folder whose image files the page offers (nothing outside it is ever read)", null);
        var maxUpload = CliOptions.Make("--max-upload-mb", "largest upload accepted, in MB (larger: 413)", 20);
        var maxPixels = CliOptions.Make("--max-pixels", "largest image accepted, width × height from its header, checked before decoding (larger: 413)", 40_000_000L);
        var colormap = CliOptions.ColorMap("colour map of the overlays");
        var labels = CliOptions.Labels();
        var threads = CliOptions.Threads();
        var preprocessing = new PreprocessingOptions();
        var command = new Command("serve", "Serve a local web page that explains a model's predictions live (top-5, any method and layer, overlay, raw map, channel weights)")
        {
            model, port, host, images, maxUpload, maxPixels, colormap, labels, threads,
        };
        preprocessing.AddTo(command);
        command.SetAction(p => CliRunner.Guard(() =>
        {
            int portNumber = p.GetValue(port);
            if (portNumber is < 0 or > 65535) throw new ArgumentException($"--port must be 0 to 65535, got {portNumber}");
            var address = Address(p.GetValue(host)!);
            long uploadBytes = OptionChecks.AtLeast(p.GetValue(maxUpload), 1, "--max-upload-mb") * 1024L * 1024L;
            long pixels = p.GetValue(maxPixels);
            if (pixels < 1) throw new ArgumentException($"--max-pixels must be at least 1, got {pixels}");
            var folder = p.GetValue(images) is { } dir ? new ImageFolder(dir) : null;
            var colors = p.GetValue(colormap)!;
            ColorMaps.Get(colors);
            string modelPath = p.GetValue(model)!;
            var loaded = LoadedModel.Open(modelPath, p.GetValue(labels), preprocessing, p);
            if (loaded.Note(fromImages: true) is { } note) Console.Error.WriteLine($"nanocam: note: {note}");
            var service = new ExplainService(loaded, Backends.Create("cpu", p.GetValue(threads)), Path.GetFileName(modelPath), pixels, colors);

            var app = ServeApp.Build(service, new ServeSettings(address, portNumber, uploadBytes, folder));
            try
            {
                app.StartAsync().GetAwaiter().GetResult();
            }
            catch (IOException e)
            {
                throw new IOException($"cannot listen on {p.GetValue(host)}:{portNumber}: {e.Message}", e);
            }
            // The URL alone on the first line, for scripts and tests; then what is served, in words.
            Console.WriteLine(ServeApp.Url(app));
            Console.WriteLine($"nanocam serve: {Path.GetFileName(modelPath)}, {service.Description.Classes} classes, {service.Description.Layers.Count} layers"
                + (folder is null ? "" : $", images from {Path.GetFullPath(p.GetValue(images)!)}") + "; Ctrl-C stops");
            Console.Out.Flush();
            app.WaitForShutdownAsync().GetAwaiter().GetResult();
            return 0;
        }));
        return command;
    }

    /// <summary>127.0.0.1 by default; "localhost" is the loopback; otherwise an IP address (no name lookups).</summary>
    private static IPAddress Address(string host) =>
        host == "localhost" ? IPAddress.Loopback
        : IPAddress.TryParse(host, out var address) ? address
        : throw new ArgumentException($"--host must be an IP address (127.0.0.1, 0.0.0.0, ::1) or localhost, got '{host}'");
}
