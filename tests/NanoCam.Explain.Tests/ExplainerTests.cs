using NanoCam.Cpu.Simd;
using NanoCam.Data;
using NanoCam.Explain.Methods;
using NanoCam.Explain.Tests.Zoo;
using NanoCam.Imaging;
using NanoCam.Nn.Models;
using NanoCam.Onnx;

namespace NanoCam.Explain.Tests;

/// <summary>
/// The library's front door, <see cref="Explainer"/>: load, explain, read the map, the overlay and the intermediates —
/// each result the same as the explainer underneath gives for the same input, on the shipped checkpoint and on the
/// shared SqueezeNet with a preprocessing sidecar beside it.
/// </summary>
public sealed class ExplainerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-explainer").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string ShippedShapes => RepositoryFiles.PathOf("weights/shapes-vgg.safetensors");

    /// <summary>Test image 3 of the shapes data set (seed 7), as an image in [0, 1].</summary>
    private static RgbImage ShapesImage()
    {
        var chw = new float[3 * ShapesDataset.ImageSide * ShapesDataset.ImageSide];
        new ShapesDataset(8, seed: 7).GetImage(3, chw);
        return RgbImage.FromPlanar(chw, 3, ShapesDataset.ImageSide, ShapesDataset.ImageSide);
    }

    [Fact]
    public void Checkpoint_GradCam_IsTheExplainersGradCam_OnTheNormalizedImage()
    {
        using var explainer = Explainer.Load(ShippedShapes, new ExplainerOptions { Threads = 1 });
        var image = ShapesImage();
        var explanation = explainer.Explain(image, Method.GradCam);

        // The same pass by hand: the checkpoint's normalization, then CamExplainer.
        var trained = TrainedModel.Load(ShippedShapes);
        using var kernels = new SimdKernels(threads: 1);
        trained.Network.MoveTo(kernels);
        var direct = new CamExplainer(new ModuleExplainable(trained.Network, trained.Metadata.Classes), kernels)
            .Explain(new GradCam(), ImageInput.FromImage(image, trained.Metadata), CamTarget.TopPrediction());
        Assert.Equal(direct.NormalizedOf(0).ToArray(), explanation.Map);
        Assert.Equal(direct.Capture.TargetClasses[0], explanation.TargetClass);
        Assert.Equal(trained.Metadata.Classes[explanation.TargetClass], explanation.ClassName);
        Assert.Equal((64, 64), (explanation.Width, explanation.Height));
        var intermediates = Assert.IsType<CamResult>(explanation.Intermediates);
        Assert.Equal(direct.ChannelWeights, intermediates.ChannelWeights);
        Assert.Equal(explanation.Layer, direct.Capture.Layer);
    }

    [Fact]
    public void FileStreamImageAndFloats_GiveTheSameMap()
    {
        using var explainer = Explainer.Load(ShippedShapes, new ExplainerOptions { Threads = 1 });
        string path = Path.Combine(_dir, "shape.png");
        ImageCodec.SavePng(ShapesImage(), path);
        var fromFile = explainer.Explain(path, Method.GradCamPlusPlus, CamTarget.Class(2));
        using var stream = File.OpenRead(path);
        var fromStream = explainer.Explain(stream, Method.GradCamPlusPlus, CamTarget.Class(2));
        var floats = explainer.Prepare(ImageCodec.Load(path)).Input.ToArray();
        var fromFloats = explainer.Explain(floats, Method.GradCamPlusPlus, CamTarget.Class(2));
        Assert.Equal(fromFile.Map, fromStream.Map);
        Assert.Equal(fromFile.Map, fromFloats.Map);
        Assert.Equal(2, fromFile.TargetClass);
        var overlay = fromFile.Overlay(ImageCodec.Load(path));
        Assert.Equal((64, 64), (overlay.Width, overlay.Height));
    }

    [Fact]
    public void InputSpaceMethods_GiveAPixelMapAndTheirRawAttributions()
    {
        using var explainer = Explainer.Load(ShippedShapes, new ExplainerOptions { Threads = 1 });
        var explanation = explainer.Explain(ShapesImage(), Method.Saliency);
        var raw = Assert.IsType<AttributionResult>(explanation.Intermediates);
        Assert.Equal((3, 64, 64), (raw.Channels, raw.Height, raw.Width));
        Assert.Equal(64 * 64, explanation.Map.Length);
        Assert.Equal(1f, explanation.Map.Max());
        Assert.Null(explanation.Layer);
    }

    [Fact]
    public void ConcurrentCalls_GiveWhatOneCallGives()
    {
        using var explainer = Explainer.Load(ShippedShapes, new ExplainerOptions { Threads = 1 });
        var image = ShapesImage();
        var alone = explainer.Explain(image, Method.LayerCam).Map;
        var maps = new float[8][];
        Parallel.For(0, maps.Length, i => maps[i] = explainer.Explain(image, Method.LayerCam).Map);
        Assert.All(maps, map => Assert.Equal(alone, map));
    }

    [Fact]
    public void OnnxModel_ReadsItsSidecar_AndFindsItsLabels()
    {
        // SqueezeNet wants raw 0–255 BGR: a sidecar beside a copy says so; the labels file beside it names the classes.
        string model = Path.Combine(_dir, "squeezenet.onnx");
        File.Copy(ZooModel.PathOf(Path.Combine("..", "SqueezeNet_fp32_from_fp16.onnx")), model);
        File.Copy(ZooModel.PathOf(Path.Combine("..", "imagenet_labels.txt")), Path.Combine(_dir, "imagenet_labels.txt"));
        File.WriteAllText(Path.Combine(_dir, "squeezenet.preprocess.json"), """{ "channel_order": "bgr", "scale": 255, "mean": "none", "std": "none" }""");
        using var explainer = Explainer.Load(model, new ExplainerOptions { Threads = 1 });
        var preprocessing = explainer.Preprocessing!;
        Assert.Equal((224, 224, 3, true, 255f), (preprocessing.Size, preprocessing.Resize, preprocessing.Channels, preprocessing.Bgr, preprocessing.Scale));
        Assert.Equal([0f, 0f, 0f], preprocessing.Mean);
        Assert.Equal([1f, 1f, 1f], preprocessing.Std);
        Assert.Equal(["input_size", "resize"], preprocessing.Defaulted);
        Assert.Equal(1000, explainer.ClassNames!.Count);

        var image = ImageCodec.Load(ZooModel.PathOf(Path.Combine("..", "..", "images", "both.png")));
        var explanation = explainer.Explain(image, Method.GradCam);
        // The scores by hand: the same preprocessing record applied, the graph run on its own.
        var (input, _) = new Preprocessing(224, 224, 3, true, 255f, [0, 0, 0], [1, 1, 1]).Apply(image);
        using var kernels = new SimdKernels(threads: 1);
        var direct = new CamExplainer(new OnnxExplainable(OnnxModel.Load(model), null), kernels).ScoresOf(input);
        int top = Array.IndexOf(direct, direct.Max());
        Assert.Equal(top, explanation.TargetClass);
        Assert.Equal(explainer.ClassNames[top], explanation.ClassName);
        Assert.Equal(224 * 224, explanation.Map.Length);
    }

    [Fact]
    public void BadInput_IsOneLine()
    {
        using var explainer = Explainer.Load(ShippedShapes, new ExplainerOptions { Threads = 1 });
        var wrongSize = Assert.Throws<ArgumentException>(() => explainer.Explain(new float[10], Method.GradCam));
        Assert.Equal("the input has 10 values; the model takes [3, 64, 64] (12288)", wrongSize.Message);
        var nan = new float[3 * 64 * 64];
        nan[5] = float.NaN;
        var notFinite = Assert.Throws<ArgumentException>(() => explainer.Explain(nan, Method.GradCam));
        Assert.Equal("the input holds values that are not finite numbers (the first at element 5); the model needs finite inputs", notFinite.Message);
        var unknown = Assert.Throws<ArgumentException>(() => Method.Named("gradcan"));
        Assert.StartsWith("unknown method 'gradcan' (known: cam, gradcam, ", unknown.Message);
        var missing = Assert.Throws<FileNotFoundException>(() => Explainer.Load(Path.Combine(_dir, "none.onnx")));
        Assert.Equal($"model '{Path.Combine(_dir, "none.onnx")}' not found", missing.Message);
    }
}
