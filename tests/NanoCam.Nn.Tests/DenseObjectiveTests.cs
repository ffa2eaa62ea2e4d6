using NanoCam.Autodiff;
using NanoCam.Cpu.Naive;
using NanoCam.Nn.Models;
using NanoCam.Nn.Modules;
using NanoCam.Nn.Training;

namespace NanoCam.Nn.Tests;

/// <summary>
/// The losses of the dense-output networks (seg-fcn's class-balanced per-pixel cross-entropy, det-grid's YOLO loss) on
/// squares drawn here: their gradients through the networks (nearest upsampling, gather of the responsible cells,
/// sigmoid and softmax of the head) match central finite differences, and their shapes are the documented ones.
/// </summary>
public sealed class DenseObjectiveTests
{
    private const int Side = 32, Batch = 3;

    /// <summary>Image i: a bright square of side 10 + 2i at (3 + 5i, 6 + 3i) on noise; its coverage is the mask.</summary>
    private static void Square(int index, Span<float> coverage)
    {
        coverage.Clear();
        int size = 10 + 2 * index, x0 = 3 + 5 * index, y0 = 6 + 3 * index;
        for (int y = y0; y < y0 + size; y++)
            for (int x = x0; x < x0 + size; x++) coverage[y * Side + x] = 1f;
    }

    private static (Tensor Images, float[] Labels, int[] Indices) Squares()
    {
        var rng = new Random(3);
        var images = new float[Batch * 3 * Side * Side];
        var mask = new float[Side * Side];
        for (int n = 0; n < Batch; n++)
        {
            Square(n, mask);
            for (int c = 0; c < 3; c++)
                for (int p = 0; p < mask.Length; p++) images[(n * 3 + c) * mask.Length + p] = mask[p] * (c + 1) * 0.5f + (float)rng.NextDouble() * 0.3f;
        }
        return (Tensor.FromArray(images, Batch, 3, Side, Side), [0f, 2f, 1f], [0, 1, 2]);
    }

    private static float Loss(DenseObjective objective, Tensor images, float[] labels, int[] indices, Tape? tape = null)
    {
        tape ??= new Tape(NaiveKernels.Instance) { Training = true };
        return objective.Loss(tape, images, labels, indices).Loss.ToArray()[0];
    }

    [Theory]
    [InlineData("seg-fcn")]
    [InlineData("det-grid")]
    public void LossGradient_MatchesCentralFiniteDifferences(string architecture)
    {
        var model = Architectures.CreateNetwork(architecture, 3, 3, seed: 5);
        var objective = DenseObjective.For(model, Square, Side, Side)!;
        var (images, labels, indices) = Squares();
        var tape = new Tape(NaiveKernels.Instance) { Training = true };
        var (loss, _) = objective.Loss(tape, images, labels, indices);
        tape.Backward(loss);
        // The head (every output reads it) and the first convolution (every gradient passes through the whole network).
        var checkedParameters = model.NamedParameters().Where(p => p.Name is "head.bias" or "head.weight" or "features.0.weight").ToList();
        Assert.Equal(3, checkedParameters.Count);
        int compared = 0;
        foreach (var (name, value, j, analytic) in ParameterChecks.SampledElements(checkedParameters, 6))
        {
            double numeric = ParameterChecks.CentralDifference(value, j, 1e-3f, () => Loss(objective, images, labels, indices));
            Assert.True(Math.Abs(numeric - analytic) <= 5e-3 + 0.05 * Math.Abs(numeric), $"{architecture} {name}[{j}]: backward {analytic}, finite difference {numeric}");
            compared++;
        }
        Assert.True(compared >= 15, $"only {compared} gradient elements compared");
        Assert.Contains(checkedParameters, p => p.Parameter.Value.Grad!.ToArray().Any(g => MathF.Abs(g) > 1e-2f));
    }

    [Fact]
    public void OutputShapes_AreTheDocumentedLayouts()
    {
        var (images, _, _) = Squares();
        var tape = new Tape(NaiveKernels.Instance) { GradEnabled = false };
        var segmenter = (SegmentationFcn)Architectures.CreateNetwork("seg-fcn", 3, 3, 1);
        Assert.Equal([Batch, 4, Side, Side], segmenter.Call(tape, images).Shape.Dims.ToArray());
        Assert.Equal([4, Side, Side], segmenter.OutputDims(Side, Side));
        var detector = (GridDetector)Architectures.CreateNetwork("det-grid", 3, 3, 1);
        Assert.Equal([Batch, 4, 8], detector.Call(tape, images).Shape.Dims.ToArray());
        Assert.Equal([4, 8], detector.OutputDims(Side, Side));
        var e = Assert.Throws<ArgumentException>(() => Architectures.CheckInputSize("det-grid", 28, 28));
        Assert.Equal("--arch det-grid: the images are 28×28; its grid cells are 16 px (four 2×2 pools), so both sides must be multiples of 16", e.Message);
        Assert.Throws<ArgumentException>(() => Architectures.Create("seg-fcn", 3, 3, 1));
    }

    [Fact]
    public void BoxOf_IsTheTightBoxOfTheHalfCoveredPixels_AndIoUIsOfAreas()
    {
        var mask = new float[Side * Side];
        Square(1, mask); // 12×12 at (8, 9)
        mask[5 * Side + 30] = 0.4f; // under half: outside
        Assert.Equal(new PixelBox(8, 9, 20, 21), DenseQuality.BoxOf(mask, Side, Side));
        Assert.Equal(1f / 7f, new PixelBox(0, 0, 4, 4).IoU(new PixelBox(2, 2, 6, 6)), 5); // 4 / (16 + 16 − 4)
    }
}
