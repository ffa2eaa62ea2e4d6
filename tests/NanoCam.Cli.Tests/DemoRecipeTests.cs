using System.Text.Json;

namespace NanoCam.Cli.Tests;

/// <summary>
/// The README's first command in full (every default: 6,000 generated images, 16 epochs, seed 1), trained from scratch:
/// it must reach the targets itself, not only the shipped checkpoint. About two minutes on two cores.
/// </summary>
public sealed class DemoRecipeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-demo-recipe").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void FullDemo_TrainsFromScratchTo98PercentAccuracyAnd80PercentLocalization()
    {
        // Two threads fix the reduction order, so the run is the same on any machine with the same micro-kernel. The other
        // test projects share the cores meanwhile, hence the long limit.
        var (code, stdout, stderr) = CliHarness.Run(TimeSpan.FromMinutes(20), "demo", "--out", _dir, "--examples", "6", "--threads", "2", "--json");
        Assert.True(code == 0, stderr);
        using var json = CliHarness.LastLineJson(stdout);
        double accuracy = json.RootElement.GetProperty("accuracy").GetDouble();
        double localization = json.RootElement.GetProperty("localization_accuracy").GetDouble();
        Assert.True(accuracy >= 0.98, $"accuracy {accuracy:P1}");
        Assert.True(localization >= 0.80, $"localization accuracy {localization:P1}");
    }
}
