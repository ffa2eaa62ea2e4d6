using System.Buffers.Binary;
using NanoCam.Cli.Serve;

namespace NanoCam.Cli.Tests;

/// <summary>
/// The checks serve makes before any work, in process: an image's size read from its header (so a huge one is refused
/// unallocated), and names of the --images folder that can only reach files inside it.
/// </summary>
public sealed class ServeRequestChecksTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-serve-checks").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Shared(string name) => File.ReadAllBytes(Path.Combine(CliHarness.SharedData, "images", name));

    [Fact]
    public void ImageHeader_ReadsPngJpegAndBmpSizes_FromTheFirstBytes()
    {
        Assert.Equal(new ImageHeader("PNG", 224, 224), ImageHeader.Read(Shared("both.png")));
        Assert.Equal(new ImageHeader("JPEG", 284, 177), ImageHeader.Read(Shared("dog_cat.jpg")));
        Assert.Equal(new ImageHeader("JPEG", 380, 216), ImageHeader.Read(Shared("cam_test.jpg")));
        var bmp = new byte[54];
        "BM"u8.CopyTo(bmp);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(18), 640);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(22), -480); // top-down
        Assert.Equal(new ImageHeader("BMP", 640, 480), ImageHeader.Read(bmp));
    }

    [Fact]
    public void ImageHeader_GivesAHundredMegapixelPngItsSize_AndTheServiceRefusesItWith413()
    {
        var png = Shared("both.png")[..33];
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(16), 10_000);
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(20), 10_000);
        Assert.Equal(100_000_000L, ImageHeader.Read(png)!.Value.Pixels);

        long before = GC.GetAllocatedBytesForCurrentThread();
        var refused = Assert.Throws<RequestException>(() => ExplainService.DecodeChecked(png, maxPixels: 40_000_000));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "the refusal allocated the image");
        Assert.Equal(413, refused.Status);
        Assert.Contains("100,000,000 pixels", refused.Message);
    }

    [Fact]
    public void ImageHeader_TruncatedOrUnknownBytes_AreRefusedInWords()
    {
        Assert.Null(ImageHeader.Read("%PDF-1.4"u8));
        Assert.Null(ImageHeader.Read([]));
        Assert.Throws<InvalidDataException>(() => ImageHeader.Read(Shared("both.png")[..20]));
        Assert.Throws<InvalidDataException>(() => ImageHeader.Read(Shared("dog_cat.jpg")[..40]));
        Assert.Equal(415, Assert.Throws<RequestException>(() => ExplainService.DecodeChecked("GIF89a"u8.ToArray(), 100)).Status);
        Assert.Equal(422, Assert.Throws<RequestException>(() => ExplainService.DecodeChecked(Shared("both.png")[..2000], 1_000_000)).Status);
    }

    [Fact]
    public void ImageFolder_ServesBareNamesOnly_AndNothingALinkTakesOutside()
    {
        var images = Directory.CreateDirectory(Path.Combine(_dir, "images")).FullName;
        var outside = Directory.CreateDirectory(Path.Combine(_dir, "outside")).FullName;
        File.WriteAllBytes(Path.Combine(images, "a.png"), Shared("both.png"));
        File.WriteAllBytes(Path.Combine(outside, "secret.png"), Shared("fish.png"));
        File.WriteAllText(Path.Combine(images, "notes.txt"), "not an image");
        File.CreateSymbolicLink(Path.Combine(images, "escape.png"), Path.Combine(outside, "secret.png"));
        File.CreateSymbolicLink(Path.Combine(images, "alias.png"), Path.Combine(images, "a.png"));
        var folder = new ImageFolder(images);

        Assert.Equal(["a.png", "alias.png"], folder.Names());
        Assert.Equal(Path.Combine(images, "a.png"), folder.Resolve("a.png"));
        foreach (var name in new[] { "../outside/secret.png", "..", "..\\outside\\secret.png", Path.Combine(outside, "secret.png"), "/etc/passwd", "sub/a.png", "a.png\0.png", "" })
            Assert.Throws<ArgumentException>(() => folder.Resolve(name));
        Assert.Throws<ArgumentException>(() => folder.Resolve("notes.txt"));
        Assert.Throws<FileNotFoundException>(() => folder.Resolve("escape.png"));
        Assert.Throws<FileNotFoundException>(() => folder.Resolve("missing.png"));
    }

    [Theory]
    [InlineData("--port must be 0 to 65535, got 70000", "--port", "70000")]
    [InlineData("--host must be an IP address (127.0.0.1, 0.0.0.0, ::1) or localhost, got 'example.com'", "--host", "example.com")]
    [InlineData("--max-upload-mb must be at least 1, got 0", "--max-upload-mb", "0")]
    [InlineData("--max-pixels must be at least 1, got -5", "--max-pixels", "-5")]
    [InlineData("is not a folder", "--images", "{dir}/missing")]
    public void Serve_RefusesABadSetting_InOneLine_BeforeListening(string expected, string option, string value)
    {
        var (code, stdout, stderr) = CliHarness.Run("serve", "--model", Path.Combine(CliHarness.SharedData, "models", "mnist.onnx"), option, value.Replace("{dir}", _dir));
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("nanocam: error: ", stderr);
        Assert.Contains(expected, stderr);
        Assert.Single(stderr.TrimEnd().Split('\n'));
    }

    [Fact]
    public void Serve_OnAPortInUse_SaysSoInOneLine()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        int port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        var (code, stdout, stderr) = CliHarness.Run("serve", "--model", Path.Combine(CliHarness.SharedData, "models", "mnist.onnx"), "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Contains($"\nnanocam: error: cannot listen on 127.0.0.1:{port}", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }
}
