namespace NanoCam.Cli.Tests;

/// <summary>
/// Grad-CAM on the pretrained SqueezeNet (ONNX, opset 7) through the command line: on both.png the maps of
/// bull mastiff (243) and tiger cat (282) at fire9/concat_1 peak on different animals — the dog stands in the upper
/// middle of the photo, the cat lies across the bottom.
/// </summary>
public sealed class SqueezeNetGradCamTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-squeezenet").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly string[] SqueezeNetInput = ["--channel-order", "bgr", "--scale", "255", "--mean", "none", "--std", "none"];

    private (int X, int Y) Peak(int cls)
    {
        var map = Path.Combine(_dir, $"map{cls}.npy");
        var args = new List<string>
        {
            "explain", "--model", Path.Combine(CliHarness.SharedData, "models", "SqueezeNet_fp32_from_fp16.onnx"),
            "--image", Path.Combine(CliHarness.SharedData, "images", "both.png"), "--method", "gradcam", "--layer", "fire9/concat_1",
            "--class", cls.ToString(), "--out", Path.Combine(_dir, $"overlay{cls}.png"), "--save-map", map,
            "--labels", Path.Combine(CliHarness.SharedData, "models", "imagenet_labels.txt"),
        };
        args.AddRange(SqueezeNetInput);
        var (code, _, stderr) = CliHarness.Run(args.ToArray());
        Assert.True(code == 0, stderr);
        var (values, shape) = Imaging.Npy.Read(map);
        Assert.Equal([224, 224], shape);
        int best = Array.IndexOf(values, values.Max());
        return (best % 224, best / 224);
    }

    [Fact]
    public void GradCam_BullMastiffAndTigerCat_PeakOnDifferentAnimals()
    {
        var dog = Peak(243);
        var cat = Peak(282);
        // Dog: head and chest in x 70–170, y 0–130. Cat: body across the bottom, y ≥ 115.
        Assert.True(dog.X is >= 70 and <= 170 && dog.Y <= 130, $"bull mastiff map peaks at {dog}");
        Assert.True(cat.Y >= 115, $"tiger cat map peaks at {cat}");
        Assert.True(Math.Abs(dog.X - cat.X) + Math.Abs(dog.Y - cat.Y) > 40, $"peaks {dog} and {cat} are too close");
    }

    [Fact]
    public void Predict_OnBothPng_GivesBullMastiffFirst()
    {
        var args = new List<string>
        {
            "predict", "--model", Path.Combine(CliHarness.SharedData, "models", "SqueezeNet_fp32_from_fp16.onnx"),
            "--image", Path.Combine(CliHarness.SharedData, "images", "both.png"),
            "--labels", Path.Combine(CliHarness.SharedData, "models", "imagenet_labels.txt"),
        };
        args.AddRange(SqueezeNetInput);
        var (code, stdout, stderr) = CliHarness.Run(args.ToArray());
        Assert.True(code == 0, stderr);
        var first = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[0];
        // The data README's independent evaluation: 243 "bull mastiff" 0.792546.
        Assert.Contains("243", first);
        Assert.Contains("bull mastiff", first);
        Assert.Contains("79.25", first);
    }
}
