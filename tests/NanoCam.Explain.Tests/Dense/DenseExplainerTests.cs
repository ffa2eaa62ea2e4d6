using NanoCam.Cpu.Simd;
using NanoCam.Data;
using NanoCam.Explain.Methods;
using NanoCam.Imaging;
using NanoCam.Nn.Models;

namespace NanoCam.Explain.Tests.Dense;

/// <summary>
/// <see cref="Explainer.Load"/> on dense checkpoints (seg-fcn and det-grid, two training steps each, saved as
/// <c>nanocam train</c> saves them): Grad-CAM of a segmentation or box target is the explainer's underneath on the
/// in-memory network, no target means the predicted class's region or the most confident box (found here with plain
/// loops over the output), and a class target is one clear error.
/// </summary>
public sealed class DenseExplainerTests : IDisposable
{
    private const int Side = 64, Plane = Side * Side;
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-dense-explainer").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A checkpoint of <paramref name="architecture"/> trained for two steps, and the network in memory.</summary>
    private (string Path, TrainedDense Trained) Checkpoint(string architecture)
    {
        var trained = ShapesDenseTraining.Train(architecture, steps: 2, images: 64);
        var metadata = new ModelMetadata
        {
            Architecture = architecture, InputChannels = 3, InputHeight = Side, InputWidth = Side,
            Classes = [.. ShapesDataset.ShapeNames], Mean = trained.Mean, Std = trained.Std, Seed = 1,
        };
        string path = Path.Combine(_dir, $"{architecture}.safetensors");
        new TrainedModel(trained.Model, metadata).Save(path);
        return (path, trained);
    }

    /// <summary>Test image 0 of the shapes data set, and its input normalized as the checkpoint says.</summary>
    private static (RgbImage Image, Tensor Input) TestImage(TrainedDense trained)
    {
        var image = RgbImage.FromPlanar(new ShapesDataset(1, DataSpec.ShapesTestSeed).GetImage(0), 3, Side, Side);
        var input = new float[3 * Plane];
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < Plane; p++) input[c * Plane + p] = (image.Pixels[3 * p + c] - trained.Mean[c]) / trained.Std[c];
        return (image, Tensor.FromArray(input, 1, 3, Side, Side));
    }

    private static float[] Output(TrainedDense trained, Tensor input) =>
        trained.Model.Call(new Autodiff.Tape(new SimdKernels(1)) { GradEnabled = false }, input).ToArray();

    private static CamResult Direct(TrainedDense trained, Tensor input, CamTarget target) =>
        new CamExplainer(new DenseExplainable(trained.Model, Side, Side), new SimdKernels(1)).Explain(new GradCam(), input, target);

    [Fact]
    public void SegFcnCheckpoint_ExplainsSegmentationTargets_AndRefusesAClass()
    {
        var (path, trained) = Checkpoint("seg-fcn");
        using var explainer = Explainer.Load(path, new ExplainerOptions { Threads = 1 });
        Assert.Equal([7, Side, Side], explainer.OutputDims);
        var (image, input) = TestImage(trained);

        // The predicted mask's class: the object class with the most argmax pixels.
        var logits = Output(trained, input);
        var counts = new int[7];
        for (int p = 0; p < Plane; p++)
        {
            int best = 0;
            for (int k = 1; k < 7; k++) if (logits[k * Plane + p] > logits[best * Plane + p]) best = k;
            counts[best]++;
        }
        int maskClass = 6;
        for (int k = 0; k < 6; k++) if (counts[k] > 0 && (maskClass == 6 || counts[k] > counts[maskClass])) maskClass = k;

        var target = CamTarget.Segmentation(maskClass, explainer.OutputDims);
        var explanation = explainer.Explain(image, Method.GradCam, target);
        var direct = Direct(trained, input, target);
        Assert.Equal(direct.NormalizedOf(0).ToArray(), explanation.Map, (a, b) => Math.Abs(a - b) <= 1e-5f);
        Assert.Equal(maskClass, explanation.TargetClass);
        Assert.Equal(maskClass == 6 ? "background" : ShapesDataset.ShapeNames[maskClass], explanation.ClassName);
        Assert.Equal("features", explanation.Layer);
        Assert.True(explanation.Map.Max() - explanation.Map.Min() > 0.5f);

        var byDefault = explainer.Explain(image, Method.GradCam);
        Assert.Equal(explanation.Map, byDefault.Map);
        Assert.Equal(maskClass, byDefault.TargetClass);

        var refused = Assert.Throws<ArgumentException>(() => explainer.Explain(image, Method.GradCam, CamTarget.Class(1)));
        Assert.Equal("this model's output is segmentation maps [N, 7, 64, 64], not class scores: explain it with CamTarget.Segmentation(k, outputDims) "
            + "(or no target: the predicted class's region)", refused.Message);
    }

    [Fact]
    public void DetGridCheckpoint_ExplainsBoxTargets_AndRefusesAClass()
    {
        var (path, trained) = Checkpoint("det-grid");
        using var explainer = Explainer.Load(path, new ExplainerOptions { Threads = 1 });
        Assert.Equal([16, 11], explainer.OutputDims);
        var (image, input) = TestImage(trained);

        // The most confident box and its class.
        var rows = Output(trained, input);
        int bestRow = 0;
        for (int i = 1; i < 16; i++) if (rows[i * 11 + 4] > rows[bestRow * 11 + 4]) bestRow = i;
        var r = rows.AsSpan(bestRow * 11, 11);
        int cls = 0;
        for (int k = 1; k < 6; k++) if (r[5 + k] > r[5 + cls]) cls = k;

        var target = CamTarget.Box(r[0] - r[2] / 2, r[1] - r[3] / 2, r[0] + r[2] / 2, r[1] + r[3] / 2, cls, explainer.OutputDims);
        var explanation = explainer.Explain(image, Method.GradCam, target);
        var direct = Direct(trained, input, target);
        Assert.Equal(direct.NormalizedOf(0).ToArray(), explanation.Map, (a, b) => Math.Abs(a - b) <= 1e-5f);
        Assert.Equal(cls, explanation.TargetClass);
        Assert.Equal(ShapesDataset.ShapeNames[cls], explanation.ClassName);
        Assert.True(explanation.Map.Max() - explanation.Map.Min() > 0.5f);

        var byDefault = explainer.Explain(image, Method.GradCam);
        Assert.Equal(explanation.Map, byDefault.Map);

        var refused = Assert.Throws<ArgumentException>(() => explainer.Explain(image, Method.GradCam, CamTarget.TopPrediction()));
        Assert.Equal("this model's output is boxes [N, 16, 11], not class scores: explain it with CamTarget.Box(x1, y1, x2, y2, k, outputDims) "
            + "(or no target: the most confident box)", refused.Message);
    }
}
