using System.Text.Json;

namespace NanoCam.Cli.Tests;

/// <summary>The model card's claims about weights/shapes-vgg.safetensors, checked through <c>nanocam eval</c> on a slice of the test split.</summary>
public sealed class ShippedWeightsTests
{
    [Fact]
    public void ShapesCheckpoint_ClassifiesAndLocalizesTheFirst200TestImages()
    {
        var model = Path.Combine(CliHarness.RepoRoot, "weights", "shapes-vgg.safetensors");
        var (code, stdout, stderr) = CliHarness.Run("eval", "--model", model, "--data", "shapes#0-200", "--split", "test", "--localization", "--threads", "2", "--json");
        Assert.True(code == 0, stderr);
        using var json = CliHarness.LastLineJson(stdout);
        double accuracy = json.RootElement.GetProperty("accuracy").GetDouble();
        double localization = json.RootElement.GetProperty("localization_accuracy").GetDouble();
        // weights/README.md: 100% accuracy and 85.2% CAM localization on all 1,000 test images (100% and 86.5% on these
        // 200); the targets are 98% and 80%.
        Assert.True(accuracy >= 0.99, $"accuracy {accuracy:P1}");
        Assert.True(localization >= 0.80, $"localization accuracy {localization:P1}");
    }
}
