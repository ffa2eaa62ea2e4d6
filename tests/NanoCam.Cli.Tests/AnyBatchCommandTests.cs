using NanoCam.Imaging;

namespace NanoCam.Cli.Tests;

/// <summary>
/// Models exported with a fixed batch of 1 take a batch of N from the command line: in one pass when the graph is
/// batch-independent (the MobileNet v3 export), image by image when a constant ties it to 1 (the tiny ViT); `layers`
/// says which. predict prints N results, explain writes N overlays and an [N, H, W] map.
/// </summary>
public sealed class AnyBatchCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-any-batch").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Zoo(string file) => Path.Combine(CliHarness.SharedData, "models", "zoo", file);

    /// <summary>The zoo input repeated <paramref name="count"/> times, each copy shifted a little, as an [N, C, H, W] .npy.</summary>
    private string Batch(string model, int count)
    {
        var (one, shape) = Npy.Read(Zoo($"{model}.input.npy"));
        var values = new float[count * one.Length];
        for (int n = 0; n < count; n++)
            for (int i = 0; i < one.Length; i++) values[n * one.Length + i] = one[i] + 0.25f * n;
        var path = Path.Combine(_dir, $"{model}-{count}.npy");
        Npy.Write(path, values, [count, .. shape[1..]]);
        return path;
    }

    [Fact]
    public void Predict_OnAFixedBatchExport_GivesOneResultPerImage_AndLayersSaysOnePass()
    {
        var (code, stdout, stderr) = CliHarness.Run("predict", "--model", Zoo("mobilenet_v3_small_op13.onnx"), "--input", Batch("mobilenet_v3_small_op13", 3), "--top", "2");
        Assert.True(code == 0, stderr);
        Assert.Contains("image 0:", stdout);
        Assert.Contains("image 2:", stdout);
        var (_, layers, _) = CliHarness.Run("layers", "--model", Zoo("mobilenet_v3_small_op13.onnx"));
        Assert.Contains("batch: N images in one pass", layers);
    }

    [Fact]
    public void Explain_OnAGraphTiedToOneImage_RunsImageByImage_AndWritesEveryMap()
    {
        var output = Path.Combine(_dir, "vit.png");
        var map = Path.Combine(_dir, "vit.npy");
        var (code, stdout, stderr) = CliHarness.Run("explain", "--model", Zoo("vit_tiny.onnx"), "--input", Batch("vit_tiny", 2), "--reshape-tokens",
            "--method", "scorecam", "--out", output, "--save-map", map);
        Assert.True(code == 0, stderr);
        Assert.True(File.Exists(Path.Combine(_dir, "vit_0.png")) && File.Exists(Path.Combine(_dir, "vit_1.png")), stdout);
        var (_, shape) = Npy.Read(map);
        Assert.Equal([2, 64, 64], shape);
        var (_, layers, _) = CliHarness.Run("layers", "--model", Zoo("vit_tiny.onnx"));
        Assert.Contains("batch: image by image", layers);
        Assert.Contains("encoder.layers.encoder_layer_1.ln_1", layers);
    }

    [Fact]
    public void Explain_TakesAPyTorchModulePathAsTheLayer()
    {
        var output = Path.Combine(_dir, "shufflenet.png");
        var (code, stdout, stderr) = CliHarness.Run("explain", "--model", Zoo("shufflenet_v2_x0_5.onnx"), "--input", Zoo("shufflenet_v2_x0_5.input.npy"),
            "--layer", "conv5", "--method", "gradcam", "--out", output);
        Assert.True(code == 0, stderr);
        Assert.Contains("at layer '/conv5/conv5.2/Relu_output_0'", stdout);
    }

    [Fact]
    public void Explain_WithALayerThatIsNeitherTensorNorModule_SaysWhereToLook()
    {
        var (code, _, stderr) = CliHarness.Run("explain", "--model", Zoo("shufflenet_v2_x0_5.onnx"), "--input", Zoo("shufflenet_v2_x0_5.input.npy"),
            "--layer", "layer9", "--out", Path.Combine(_dir, "x.png"));
        Assert.NotEqual(0, code);
        Assert.Contains("layer 'layer9' is neither a tensor nor a module path", stderr);
        Assert.Contains("nanocam layers", stderr);
    }
}
