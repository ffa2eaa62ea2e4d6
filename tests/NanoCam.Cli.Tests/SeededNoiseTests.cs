namespace NanoCam.Cli.Tests;

/// <summary>
/// The noise of SmoothGrad and of Integrated Gradients' noise baseline is fixed by its seed in every process (not by
/// <see cref="HashCode"/>, whose seed is drawn per process): two runs of the tool write byte-identical maps.
/// </summary>
public sealed class SeededNoiseTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-seeded-noise").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("smoothgrad", "--samples", "3")]
    [InlineData("integrated-gradients", "--baseline", "noise", "--steps", "4")]
    public void TwoProcesses_WriteTheSameMap(string method, params string[] options)
    {
        byte[] Run(string name)
        {
            string map = Path.Combine(_dir, $"{name}.npy");
            var (code, _, stderr) = CliHarness.Run(["explain", "--model", Path.Combine(CliHarness.Weights, "mnist-gapcnn.safetensors"),
                "--image", Path.Combine(CliHarness.SharedData, "images", "mnist_28.png"), "--method", method, "--threads", "1",
                "--out", Path.Combine(_dir, $"{name}.png"), "--save-map", map, .. options]);
            Assert.True(code == 0, stderr);
            return File.ReadAllBytes(map);
        }
        Assert.Equal(Run("first"), Run("second"));
    }
}
