namespace NanoCam.Cli.Tests;

/// <summary>
/// <c>evaluate-explanations</c> on an imported ONNX model: a folder of images through the model's preprocessing, the
/// metric families that need no boxes, and one line refusing the sanity check (it re-initialises a checkpoint's layers).
/// </summary>
public sealed class EvaluateImportedModelTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-evaluate-onnx").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Images()
    {
        string images = Path.Combine(_dir, "images");
        Directory.CreateDirectory(images);
        File.Copy(Path.Combine(CliHarness.SharedData, "images", "mnist_28.png"), Path.Combine(images, "seven.png"));
        return images;
    }

    private static string Mnist => Path.Combine(CliHarness.SharedData, "models", "mnist.onnx");

    [Fact]
    public void AFolderOfImages_IsScored_WithTheFamiliesThatNeedNoBoxes()
    {
        var (code, stdout, stderr) = CliHarness.Run("evaluate-explanations", "--model", Mnist, "--data", Images(), "--count", "1",
            "--methods", "gradcam,saliency", "--metrics", "faithfulness,complexity", "--json", "--threads", "1");
        Assert.True(code == 0, stderr);
        using var json = CliHarness.LastLineJson(stdout);
        var rows = json.RootElement.EnumerateArray().ToArray();
        Assert.Equal(["gradcam", "saliency"], rows.Select(r => r.GetProperty("method").GetString()));
        foreach (var row in rows)
        {
            Assert.Equal(1, row.GetProperty("images").GetInt32());
            Assert.InRange(row.GetProperty("deletion_auc").GetDouble(), 0, 1);
            Assert.InRange(row.GetProperty("insertion_auc").GetDouble(), 0, 1);
            Assert.InRange(row.GetProperty("sparseness").GetDouble(), 0, 1);
        }
    }

    [Fact]
    public void Sanity_OnAnImportedModel_IsOneLine()
    {
        var (code, _, stderr) = CliHarness.Run("evaluate-explanations", "--model", Mnist, "--data", Images(), "--metrics", "sanity");
        Assert.Equal(1, code);
        Assert.Equal("nanocam: error: the sanity metric re-initialises a NanoCam checkpoint's layers; an imported model's cannot be: leave sanity out of --metrics", stderr.Trim());
    }
}
