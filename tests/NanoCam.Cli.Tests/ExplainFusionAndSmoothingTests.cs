using NanoCam.Imaging;

namespace NanoCam.Cli.Tests;

/// <summary>
/// `explain --layer a,b,c` (the maps of several layers fused), `--smooth N,σ` (any method averaged over noisy copies) and the
/// recent CAM methods, on the shipped shapes model: maps written, σ = 0 is the plain map, bad values refused in one line.
/// </summary>
public sealed class ExplainFusionAndSmoothingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-fusion").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Code, string Stdout, string Stderr) Explain(string map, params string[] extra) => CliHarness.Run(
        ["explain", "--model", Path.Combine(CliHarness.Weights, "shapes-vgg.safetensors"), "--image", Path.Combine(CliHarness.SharedData, "images", "both.png"),
         "--threads", "1", "--out", Path.Combine(_dir, "out.png"), "--save-map", Path.Combine(_dir, map), .. extra]);

    private float[] Map(string name)
    {
        var (values, shape) = Npy.Read(Path.Combine(_dir, name));
        Assert.Equal([64, 64], shape);
        return values;
    }

    [Fact]
    public void SeveralLayers_WriteOneFusedMap_NormalizedToTheUnitRange()
    {
        var (code, stdout, stderr) = Explain("fused.npy", "--method", "gradcam", "--layer", "features.6,features.12,features");
        Assert.True(code == 0, stderr);
        Assert.Contains("at layers 'features.6', 'features.12', 'features' (fused)", stdout);
        var fused = Map("fused.npy");
        Assert.Equal(1f, fused.Max(), 5);
        Assert.Equal(0f, fused.Min());
        // The fusion is not the deepest layer's map alone.
        Assert.Equal(0, Explain("deep.npy", "--method", "gradcam", "--layer", "features").Code);
        Assert.NotEqual(Map("deep.npy"), fused);
    }

    [Theory]
    [InlineData("gradcam")]
    [InlineData("fem")]
    public void SmoothWithNoNoise_WritesExactlyThePlainMap(string method)
    {
        Assert.Equal(0, Explain("plain.npy", "--method", method).Code);
        var (code, stdout, stderr) = Explain("smooth.npy", "--method", method, "--smooth", "3,0");
        Assert.True(code == 0, stderr);
        Assert.Contains("averaged over 3 noisy copies", stdout);
        Assert.Equal(Map("plain.npy"), Map("smooth.npy"));
    }

    [Fact]
    public void Smooth_IsReproducibleBySeed_AndChangesTheMap()
    {
        Assert.Equal(0, Explain("a.npy", "--method", "gradcam", "--smooth", "4,0.2", "--seed", "5").Code);
        Assert.Equal(0, Explain("b.npy", "--method", "gradcam", "--smooth", "4,0.2", "--seed", "5").Code);
        Assert.Equal(0, Explain("plain.npy", "--method", "gradcam").Code);
        Assert.Equal(Map("a.npy"), Map("b.npy"));
        Assert.NotEqual(Map("plain.npy"), Map("a.npy"));
    }

    [Fact]
    public void TheRecentMethods_EachWriteTheirMap()
    {
        var (code, stdout, stderr) = Explain("map.npy", "--method", "kpcacam,shapleycam,finercam,fem");
        Assert.True(code == 0, stderr);
        foreach (var method in new[] { "kpcacam", "shapleycam", "finercam", "fem" })
        {
            Assert.Contains($"{method} for class", stdout);
            Assert.Contains(Map($"map_{method}.npy"), v => v > 0f);
        }
    }

    [Theory]
    [InlineData(2, "--smooth: N must be at least 1, got 0", "--smooth", "0,0.1")]
    [InlineData(2, "--smooth must be N,σ", "--smooth", "abc")]
    [InlineData(2, "--smooth: σ must be 0 or a positive number, got -1", "--smooth", "4,-1")]
    [InlineData(2, "--layer 'features.6,,features' has an empty layer name", "--layer", "features.6,,features")]
    [InlineData(1, "layer 'nope' does not exist in this model; spatial layers: features.0, ", "--layer", "features.6,nope")]
    [InlineData(1, "saliency: fusing several layers (a comma in --layer) applies to the CAM family only", "--method", "saliency", "--layer", "features.6,features")]
    public void BadValues_AreRefusedInOneLine(int exitCode, string message, params string[] options)
    {
        var (code, _, stderr) = Explain("map.npy", options);
        Assert.Equal(exitCode, code);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(message, line);
        Assert.DoesNotContain("Exception", line);
        Assert.False(File.Exists(Path.Combine(_dir, "map.npy")));
    }
}
