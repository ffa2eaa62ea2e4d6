using NanoCam.Data;
using NanoCam.Nn.Models;
using NanoCam.Imaging;

namespace NanoCam.Cli.Tests;

/// <summary>
/// Attention Branch Networks end to end: train --arch abn-vgg on tiny images, eval's two accuracies, explain --method
/// abn-attention; one line for images too small for the attention branch and for a network without one.
/// </summary>
public sealed class AbnCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-abn").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Two classes of <paramref name="width"/>×<paramref name="height"/> noise images with a bright pixel block top-left ("a") or bottom-right ("b").</summary>
    private string ImageFolder(int width, int height, int block)
    {
        var root = Path.Combine(_dir, $"images{width}x{height}");
        var rng = new Random(4);
        foreach (var (cls, x0, y0) in new[] { ("a", 0, 0), ("b", width - block, height - block) })
        {
            Directory.CreateDirectory(Path.Combine(root, cls));
            for (int i = 0; i < 4; i++)
            {
                var image = new RgbImage(width, height);
                for (int p = 0; p < image.Pixels.Length; p++) image.Pixels[p] = (float)rng.NextDouble() * 0.3f;
                for (int y = y0; y < y0 + block; y++)
                for (int x = x0; x < x0 + block; x++)
                for (int c = 0; c < RgbImage.Channels; c++)
                    image.Pixels[(y * width + x) * RgbImage.Channels + c] = 1f;
                ImageCodec.SavePng(image, Path.Combine(root, cls, $"{i}.png"));
            }
        }
        return root;
    }

    [Theory]
    [InlineData("abn-vgg", 4)]
    [InlineData("abn-resnet", 3)]
    public void Train_AbnOnImagesTooSmallForTheAttentionBranch_RefusesInOneLine(string arch, int smallest)
    {
        var folder = ImageFolder(3, 2, 1);
        var ckpt = Path.Combine(_dir, "m.safetensors");
        var (code, _, stderr) = CliHarness.Run("train", "--arch", arch, "--data", $"folder:{folder}", "--validation", "none", "--epochs", "1", "--out", ckpt);
        Assert.Equal(1, code);
        Assert.Equal($"nanocam: error: --arch {arch}: the images are 2×3 but its attention branch needs at least {smallest}×{smallest} (its attention map would be 1×1; it must be at least 2×2)", stderr.Trim());
        Assert.False(File.Exists(ckpt));
    }

    [Fact]
    public void TrainAbnVgg_ThenEvalAndExplainAbnAttention_GiveBothAccuracies_AndARawMapOfTheInputsSizeInZeroOne()
    {
        var folder = ImageFolder(12, 10, 4);
        var ckpt = Path.Combine(_dir, "abn.safetensors");
        var (code, stdout, stderr) = CliHarness.Run("train", "--arch", "abn-vgg", "--data", $"folder:{folder}", "--validation", "none",
            "--epochs", "2", "--batch", "4", "--threads", "1", "--out", ckpt);
        Assert.True(code == 0, stderr);
        Assert.Contains("\"arch\": \"abn-vgg\"", File.ReadAllText(Path.ChangeExtension(ckpt, ".json")));

        (code, stdout, stderr) = CliHarness.Run("eval", "--model", ckpt, "--data", $"folder:{folder}", "--threads", "1", "--json");
        Assert.True(code == 0, stderr);
        Assert.Contains("attention branch accuracy", stdout);
        double attention = CliHarness.LastLineJson(stdout).RootElement.GetProperty("attention_branch_accuracy").GetDouble();
        Assert.InRange(attention, 0, 1);

        var map = Path.Combine(_dir, "m.npy");
        (code, stdout, stderr) = CliHarness.Run("explain", "--model", ckpt, "--image", Path.Combine(folder, "b", "0.png"), "--method", "abn-attention",
            "--raw", "--save-map", map, "--out", Path.Combine(_dir, "m.png"), "--threads", "1");
        Assert.True(code == 0, stderr);
        Assert.Contains("at layer 'attention.map'", stdout);
        var (values, shape) = Npy.Read(map);
        Assert.Equal([10, 12], shape);
        Assert.All(values, v => Assert.InRange(v, 0f, 1f));
        Assert.True(values.Max() > values.Min(), "the attention map is flat");
    }

    [Fact]
    public void Explain_AbnAttentionOnANetworkWithoutAnAttentionBranch_RefusesInOneLine()
    {
        var (code, _, stderr) = CliHarness.Run("explain", "--model", Path.Combine(CliHarness.Weights, "shapes-vgg.safetensors"),
            "--image", Path.Combine(CliHarness.SharedData, "images", "both.png"), "--method", "abn-attention", "--out", Path.Combine(_dir, "e.png"));
        Assert.Equal(1, code);
        Assert.Equal("nanocam: error: abn-attention: this network has no attention branch (train one with --arch abn-vgg or abn-resnet)", stderr.Trim());
    }

    [Fact]
    public void EvaluateExplanations_SkipsAbnAttentionWithItsReason_OnANetworkWithoutAnAttentionBranch_AndRefusesItAlone()
    {
        string[] common = ["evaluate-explanations", "--model", Path.Combine(CliHarness.Weights, "shapes-vgg.safetensors"), "--count", "2",
            "--metrics", "localization", "--threads", "1", "--json"];
        var (code, stdout, stderr) = CliHarness.Run([.. common, "--methods", "gradcam,abn-attention"]);
        Assert.True(code == 0, stderr);
        Assert.Equal("nanocam: skipped abn-attention: this network has no attention branch (train one with --arch abn-vgg or abn-resnet)", stderr.Trim());
        var rows = CliHarness.LastLineJson(stdout).RootElement;
        Assert.Equal(1, rows.GetArrayLength());

        (code, _, stderr) = CliHarness.Run([.. common, "--methods", "abn-attention"]);
        Assert.Equal(1, code);
        Assert.Equal("nanocam: error: abn-attention: this network has no attention branch (train one with --arch abn-vgg or abn-resnet)", stderr.Trim());
    }

    /// <summary>
    /// explain-dataset runs abn-attention at the attention map (its own layer) beside Grad-CAM at the default layer, in
    /// one run; on a network without an attention branch it is refused in one line before anything is written.
    /// </summary>
    [Fact]
    public void ExplainDataset_RunsAbnAttentionAtItsOwnLayer_AndRefusesItWithoutABranch()
    {
        var checkpoint = Path.Combine(_dir, "abn.safetensors");
        new TrainedModel(Architectures.Create("abn-vgg", 3, 6, seed: 2), new ModelMetadata
        {
            Architecture = "abn-vgg", InputChannels = 3, InputHeight = 64, InputWidth = 64, Classes = [.. ShapesDataset.ShapeNames],
            Mean = [0.5f, 0.5f, 0.5f], Std = [0.25f, 0.25f, 0.25f],
        }).Save(checkpoint);
        var output = Path.Combine(_dir, "run");
        var (code, _, stderr) = CliHarness.Run("explain-dataset", "--model", checkpoint, "--data", "shapes#0-3", "--methods", "gradcam,abn-attention",
            "--threads", "1", "--out", output);
        Assert.True(code == 0, stderr);
        var (attention, shape) = Npy.Read(Path.Combine(output, "maps", "abn-attention", "chunk-00000.npy"));
        var gradCam = Npy.Read(Path.Combine(output, "maps", "gradcam", "chunk-00000.npy")).Data;
        Assert.Equal([3, 64, 64], shape);
        Assert.All(attention, v => Assert.InRange(v, 0f, 1f));
        Assert.Contains(attention.Zip(gradCam), p => MathF.Abs(p.First - p.Second) > 1e-2f);

        var refused = Path.Combine(_dir, "refused");
        var (plainCode, _, plainErr) = CliHarness.Run("explain-dataset", "--model", Path.Combine(CliHarness.Weights, "shapes-vgg.safetensors"),
            "--data", "shapes#0-3", "--methods", "abn-attention", "--threads", "1", "--out", refused);
        Assert.Equal(1, plainCode);
        var line = Assert.Single(plainErr.Trim().Split('\n'));
        Assert.StartsWith("nanocam: error: abn-attention: this network has no attention branch", line);
        Assert.False(Directory.Exists(refused) && Directory.EnumerateFileSystemEntries(refused).Any(), "a refused run wrote into --out");
    }
}
