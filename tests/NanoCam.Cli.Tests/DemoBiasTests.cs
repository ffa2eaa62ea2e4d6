using NanoCam.Cli.Commands;
using NanoCam.Data;

namespace NanoCam.Cli.Tests;

public sealed class DemoBiasTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-demo-bias").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void DemoBiasSmall_PutsCamMassOnTheMarkerBeforeTheFix_AndLessAfter()
    {
        var (code, stdout, stderr) = CliHarness.Run(TimeSpan.FromMinutes(10), "demo", "bias", "--small", "--out", _dir, "--threads", "2", "--json");
        Assert.True(code == 0, stderr);
        using var json = CliHarness.LastLineJson(stdout);
        var before = json.RootElement.GetProperty("before");
        var after = json.RootElement.GetProperty("after");
        double massBefore = before.GetProperty("marker_mass").GetDouble(), massAfter = after.GetProperty("marker_mass").GetDouble();
        double uniform = json.RootElement.GetProperty("marker_area_share").GetDouble();
        Assert.True(massBefore > 10 * uniform, $"mass on the marker before the fix {massBefore:P1} (area share {uniform:P1})");
        Assert.True(massAfter < 0.5 * massBefore, $"mass on the marker: before {massBefore:P1}, after {massAfter:P1}");
        Assert.True(before.GetProperty("accuracy_marker_on_other_classes").GetDouble() < after.GetProperty("accuracy_marker_on_other_classes").GetDouble(), stdout);
        string page = File.ReadAllText(Path.Combine(_dir, "index.html"));
        foreach (var heading in new[] { "<h2>1. ", "<h2>2. ", "<h2>3. ", "<h2>4. " }) Assert.Contains(heading, page);
        Assert.Equal(4 * 6, Directory.GetFiles(Path.Combine(_dir, "cams"), "*.png").Length);
    }

    /// <summary>
    /// --fix abn and --fix fostering train the second model on the biased images (tiny sizes: the wiring, not the result):
    /// the JSON says which fix ran, the second checkpoint is an Attention Branch Network or records its λ, and an unknown
    /// fix is a command line that does not parse.
    /// </summary>
    [Theory]
    [InlineData("abn", "abn-vgg")]
    [InlineData("fostering", "vgg")]
    public void DemoBias_Fix_TrainsTheSecondModelOnTheBiasedImagesAsAsked(string fix, string architecture)
    {
        var (code, stdout, stderr) = CliHarness.Run(TimeSpan.FromMinutes(10), "demo", "bias", "--small", "--train-images", "96", "--test-images", "24",
            "--epochs", "1", "--examples", "1", "--out", _dir, "--threads", "2", "--json", "--fix", fix, "--foster-cam", "0.02");
        Assert.True(code == 0, stderr);
        using var json = CliHarness.LastLineJson(stdout);
        Assert.Equal(fix, json.RootElement.GetProperty("fix").GetString());
        var second = NanoCam.Nn.Models.TrainedModel.Load(Path.Combine(_dir, "fixed.safetensors")).Metadata;
        Assert.Equal(architecture, second.Architecture);
        Assert.Equal(fix == "fostering" ? 0.02f : null, second.FosterCam);
        Assert.Contains(fix == "abn" ? "Attention Branch Network" : "CAM fostering", File.ReadAllText(Path.Combine(_dir, "index.html")));

        var (bad, _, badErr) = CliHarness.Run("demo", "bias", "--fix", "blur", "--out", Path.Combine(_dir, "bad"));
        Assert.Equal(2, bad);
        Assert.Contains("--fix: unknown fix 'blur' (known: randomise, fostering, abn)", Assert.Single(badErr.Trim().Split('\n')));
    }

    [Fact]
    public void MassInside_IsTheShareOfThePositiveMapInTheBox()
    {
        // 4×4 map: the 2×2 box at the top-left holds 1 + 2 + 0 (negative clipped) + 1 = 4 of a positive total 8.
        float[] map = [1, 2, 0, 0,
                       -3, 1, 0, 1,
                       0, 0, 2, 0,
                       0, 0, 0, 1];
        Assert.Equal(0.5, DemoBiasCommand.MassInside(map, 4, new Box(0, 0, 1, 1)), 12);
    }

    [Fact]
    public void BiasedPlacement_MarksTheChosenClassAtTheGivenShareOfMarkedImages()
    {
        var data = new MarkedShapesDataset(new ShapesDataset(6000, 1), markedClass: 4, MarkerPlacement.Biased, 0.95);
        var marked = Enumerable.Range(0, data.Count).Where(data.IsMarked).ToList();
        double share = marked.Count(i => data.GetLabel(i) == 4) / (double)marked.Count;
        Assert.InRange(share, 0.93, 0.97);
        var moved = new MarkedShapesDataset(new ShapesDataset(60, 2), 4, MarkerPlacement.OtherClasses, 0);
        Assert.All(Enumerable.Range(0, 60), i => Assert.Equal(moved.GetLabel(i) != 4, moved.IsMarked(i)));
        var image = new float[3 * 64 * 64];
        moved.GetImage(Enumerable.Range(0, 60).First(moved.IsMarked), image);
        Assert.Equal((1f, 0f, 1f), (image[5 * 64 + 5], image[4096 + 5 * 64 + 5], image[8192 + 5 * 64 + 5]));
    }
}
