using NanoCam.Cli.Shared;
using NanoCam.Imaging;

namespace NanoCam.Cli.Tests;

/// <summary>A one-channel ONNX model (the shared MNIST CNN) takes an image: its luminance, one mean, one std.</summary>
public sealed class GrayModelInputTests
{
    private static string Image => Path.Combine(CliHarness.SharedData, "images", "mnist_28.png");
    private static string Model => Path.Combine(CliHarness.SharedData, "models", "mnist.onnx");

    [Fact]
    public void GrayPreprocessing_ReproducesTheRecordedPixelValues()
    {
        var (input, _) = new Preprocessing(28, 28, Channels: 1, Bgr: false, Scale: 255f, Mean: [0f], Std: [1f]).Apply(ImageCodec.Load(Image));
        Assert.Equal([1, 1, 28, 28], input.Shape.ToArray());
        var recorded = File.ReadAllText(Path.Combine(CliHarness.SharedData, "models", "reference", "mnist_28.csv"))
            .Split(',').Select(float.Parse).ToArray();
        Assert.Equal(784, recorded.Length);
        var values = input.Span.ToArray();
        for (int i = 0; i < recorded.Length; i++) Assert.InRange(values[i], recorded[i] - 0.01f, recorded[i] + 0.01f);
    }

    [Fact]
    public void Predict_OnTheMnistModel_ReadsTheDigitAsEight()
    {
        var (code, stdout, stderr) = CliHarness.Run("predict", "--model", Model, "--image", Image, "--scale", "255", "--top", "1");
        Assert.True(code == 0, stderr);
        Assert.Equal("8", stdout.Trim().Split('\n')[^1].Trim().Split(' ')[0]);
    }

    [Theory]
    [InlineData("--mean", "imagenet", "describes RGB input")]
    [InlineData("--std", "0.5,0.5,0.5", "has 3 number(s) but the model takes 1 channel(s)")]
    public void RgbStatistics_OnAGrayModel_GetOneClearLine(string option, string value, string expected)
    {
        var (code, _, stderr) = CliHarness.Run("predict", "--model", Model, "--image", Image, "--scale", "255", option, value);
        Assert.NotEqual(0, code);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains(expected, stderr);
    }
}
