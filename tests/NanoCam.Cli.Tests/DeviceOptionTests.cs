using NanoCam.Imaging;

namespace NanoCam.Cli.Tests;

/// <summary>
/// --device end to end: training and explaining on ILGPU's CPU accelerator (tiny images, so the simulated GPU finishes
/// quickly), the same maps as on the CPU, and one clear line for a device this machine does not have.
/// </summary>
public sealed class DeviceOptionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-device").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Two classes of 12×10 images: a bright square top-left (class "a") or bottom-right (class "b"), on noise.</summary>
    private string TinyImageFolder()
    {
        var root = Path.Combine(_dir, "images");
        var rng = new Random(4);
        foreach (var (cls, x0, y0) in new[] { ("a", 1, 1), ("b", 7, 5) })
        {
            Directory.CreateDirectory(Path.Combine(root, cls));
            for (int i = 0; i < 4; i++)
            {
                var image = new RgbImage(12, 10);
                for (int p = 0; p < image.Pixels.Length; p++) image.Pixels[p] = (float)rng.NextDouble() * 0.3f;
                for (int y = y0; y < y0 + 4; y++)
                for (int x = x0; x < x0 + 4; x++)
                for (int c = 0; c < RgbImage.Channels; c++)
                    image.Pixels[(y * 12 + x) * RgbImage.Channels + c] = 1f;
                ImageCodec.SavePng(image, Path.Combine(root, cls, $"{i}.png"));
            }
        }
        return root;
    }

    [Fact]
    public void TrainAndExplain_OnIlgpuCpu_Work_AndTheMapEqualsTheCpuOne()
    {
        var folder = TinyImageFolder();
        var ckpt = Path.Combine(_dir, "m.safetensors");
        var (code, stdout, stderr) = CliHarness.Run("train", "--device", "ilgpu-cpu", "--arch", "gapcnn", "--data", $"folder:{folder}",
            "--validation", "none", "--epochs", "2", "--batch", "4", "--out", ckpt);
        Assert.True(code == 0, stderr);
        Assert.Contains("ilgpu-cpu kernels", stdout);
        Assert.True(File.Exists(ckpt), stdout);

        var image = Path.Combine(folder, "b", "0.png");
        var maps = new Dictionary<string, float[]>();
        foreach (var device in new[] { "ilgpu-cpu", "cpu" })
        foreach (var method in new[] { "gradcam", "guided-backprop" })
        {
            var map = Path.Combine(_dir, $"{device}-{method}.npy");
            (code, _, stderr) = CliHarness.Run("explain", "--device", device, "--model", ckpt, "--image", image, "--method", method,
                "--class", "1", "--out", Path.Combine(_dir, $"{device}-{method}.png"), "--save-map", map);
            Assert.True(code == 0, stderr);
            maps[$"{device} {method}"] = Npy.Read(map).Data;
        }
        foreach (var method in new[] { "gradcam", "guided-backprop" })
        {
            float[] onDevice = maps[$"ilgpu-cpu {method}"], onCpu = maps[$"cpu {method}"];
            float scale = 1 + onCpu.Max(MathF.Abs);
            // The two backends sum in different orders; the maps agree to float rounding.
            for (int i = 0; i < onCpu.Length; i++)
                Assert.True(MathF.Abs(onDevice[i] - onCpu[i]) <= 1e-4f * scale, $"{method} element {i}: ilgpu-cpu {onDevice[i]}, cpu {onCpu[i]}");
        }
    }

    [Theory]
    [InlineData("train", "--data", "shapes#0-8")]
    [InlineData("explain", "--image", "fish.png")]
    public void Cuda_OnAMachineWithoutIt_FailsWithOneClearLine(string verb, string option, string value)
    {
        var args = verb == "train"
            ? new[] { verb, "--device", "cuda", option, value, "--out", Path.Combine(_dir, "m.safetensors") }
            : [verb, "--device", "cuda", "--model", Path.Combine(CliHarness.Weights, "shapes-vgg.safetensors"), option, Path.Combine(CliHarness.SharedData, "images", value),
                "--out", Path.Combine(_dir, "e.png")];
        var (code, _, stderr) = CliHarness.Run(args);
        Assert.NotEqual(0, code);
        var lines = stderr.Trim().Split('\n');
        Assert.Single(lines);
        Assert.StartsWith("nanocam: error: device 'cuda' is not present: ILGPU found no CUDA device", lines[0]);
        Assert.False(File.Exists(Path.Combine(_dir, "m.safetensors")));
    }
}
