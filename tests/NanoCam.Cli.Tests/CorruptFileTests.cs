namespace NanoCam.Cli.Tests;

/// <summary>Corrupted image and .npy files get one line that names the file and quotes none of its raw bytes.</summary>
public sealed class CorruptFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-corrupt").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Mnist => Path.Combine(CliHarness.SharedData, "models", "mnist.onnx");

    private void AssertCleanOneLineError(params string[] args)
    {
        var (code, stdout, stderr) = CliHarness.Run(args);
        Assert.NotEqual(0, code);
        var lines = stderr.Trim().Split('\n');
        Assert.Single(lines);
        Assert.StartsWith("nanocam: error: ", lines[0]);
        Assert.DoesNotContain("   at ", stderr);
        Assert.True(stderr.TrimEnd('\n').All(c => !char.IsControl(c)), $"control characters in: {stderr}");
    }

    [Fact]
    public void ACorruptedPngHeader_IsOneLineWithoutItsBytes()
    {
        var path = Path.Combine(_dir, "bad.png");
        File.WriteAllBytes(path, [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, (byte)'I', (byte)'H', (byte)'D', (byte)'R', 0x1b, (byte)'[', (byte)'3', (byte)'1', (byte)'m', 0x07, 0x0A]);
        AssertCleanOneLineError("predict", "--model", Mnist, "--image", path);
    }

    [Fact]
    public void ATruncatedPng_IsOneLineWithoutItsBytes()
    {
        var path = Path.Combine(_dir, "truncated.png");
        File.WriteAllBytes(path, File.ReadAllBytes(Path.Combine(CliHarness.SharedData, "images", "both.png"))[..100]);
        AssertCleanOneLineError("predict", "--model", Mnist, "--image", path);
    }

    [Fact]
    public void ACorruptedNpyHeader_IsOneLineWithoutItsBytes()
    {
        var path = Path.Combine(_dir, "bad.npy");
        byte[] header = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, 0x10, 0];
        File.WriteAllBytes(path, [.. header, .. "{garbage\n\u001b[31m\u0007}"u8.ToArray()]);
        AssertCleanOneLineError("predict", "--model", Mnist, "--input", path);
    }

    [Fact]
    public void AFolderGivenAsAnImage_IsNamedAsAFolder()
    {
        // explain takes one image (predict takes a folder's images: PredictCommandTests).
        var (code, _, stderr) = CliHarness.Run(["explain", "--model", Mnist, "--image", _dir, "--out", Path.Combine(_dir, "x.png")]);
        Assert.NotEqual(0, code);
        Assert.Contains($"--image '{_dir}' is a folder: give a file", stderr);
    }
}
