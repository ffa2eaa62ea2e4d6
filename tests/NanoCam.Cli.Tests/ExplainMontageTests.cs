using NanoCam.Cli.Commands;
using NanoCam.Cli.Shared;
using NanoCam.Data.Tests.Imaging;
using NanoCam.Imaging;

namespace NanoCam.Cli.Tests;

/// <summary><c>nanocam explain --method all</c> on a 28-pixel MNIST digit writes a montage people can read: large panels, a label per panel, the class once.</summary>
public sealed class ExplainMontageTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-montage").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Checkpoint(string name) => Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../weights", name));

    [Fact]
    public void MethodAll_OnMnist_WritesPanelsOfAtLeast128Pixels_UnderATitleThatNamesTheClassOnce()
    {
        var output = Path.Combine(_dir, "all.png");
        var (code, stdout, stderr) = CliHarness.Run("explain", "--model", Checkpoint("mnist-gapcnn.safetensors"),
            "--image", Path.Combine(CliHarness.SharedData, "images", "mnist_28.png"), "--method", "all", "--class", "8", "--threads", "1", "--out", output);
        Assert.True(code == 0, stderr);
        Assert.Contains($"written to {output}", stdout);
        var montage = ImageCodec.Load(output);
        // Every method but abn-attention (mnist-gapcnn has no attention branch: skipped, no panel).
        string[] methods = [.. MethodList.All.Where(name => name != "abn-attention")];
        int panels = 1 + methods.Length, rows = (panels + 4) / 5;
        Assert.True(montage.Width >= 5 * 128 && montage.Height >= rows * 128, $"montage is {montage.Width}×{montage.Height}");

        // The same panels and labels in-process (all black), to read the layout: where the title and each label strip lie.
        var layout = Montage.Labelled([.. Enumerable.Range(0, panels).Select(_ => new RgbImage(28, 28))], ["input", .. methods], 5, "class 8, layer 'features'");
        Assert.Equal((layout.Image.Width, layout.Image.Height), (montage.Width, montage.Height));
        Assert.Equal("class 8, layer 'features'", FontReader.Read(montage, layout.TitleStrip!.Value, Rgb.Black, 2));
        string[] labels = ["input", .. methods];
        Assert.Equal(panels, layout.LabelStrips.Count);
        for (int i = 0; i < panels; i++) Assert.Equal(labels[i], FontReader.Read(montage, layout.LabelStrips[i], Rgb.Black, 2));
    }
}
