namespace NanoCam.Cli.Tests;

/// <summary><c>nanocam train --foster-method gradcam</c>: Grad-CAM fostering through the second-order tape, end to end.</summary>
public sealed class GradCamFosterCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-gradcam-foster").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Train_WithGradCamFostering_AtABatchNormLayer_WritesACheckpointAndReportsTheEntropy()
    {
        // vgg: conv-BN-ReLU blocks; layer features.6 is the second block's ReLU, so ∂y^c/∂A runs back through two more
        // conv-BN-ReLU blocks (BN with batch statistics), a dilated convolution, a 1×1 convolution, GAP and the classifier.
        var ckpt = Path.Combine(_dir, "m.safetensors");
        var (code, stdout, stderr) = CliHarness.Run("train", "--arch", "vgg", "--data", "shapes#0-32", "--validation", "none",
            "--epochs", "1", "--batch", "16", "--threads", "2", "--foster-cam", "0.1", "--foster-method", "gradcam", "--foster-layer", "features.6", "--out", ckpt);
        Assert.True(code == 0, stderr);
        Assert.Contains("CAM entropy", stdout);
        Assert.True(File.Exists(ckpt), stdout);
    }

    [Fact]
    public void Train_WithGradCamFostering_AtANonLayer_ListsEveryFourDimensionalLayer()
    {
        var (code, _, stderr) = CliHarness.Run("train", "--arch", "gapcnn", "--data", "shapes#0-10", "--foster-cam", "0.1", "--foster-method", "gradcam",
            "--foster-layer", "fc", "--out", Path.Combine(_dir, "m.safetensors"));
        Assert.Equal(1, code);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains("--foster-layer: 'fc' is not a feature layer of this network (candidates: ", stderr);
        // Grad-CAM takes any 4-D layer: the first pooled 32-channel map is a candidate, unlike for CAM.
        Assert.Contains("features.2, features.3", stderr);
    }
}
