using NanoCam.Autodiff;
using NanoCam.Core.Tests;
using NanoCam.Cpu.Naive;
using static NanoCam.Onnx.Tests.TestGraphs;

namespace NanoCam.Onnx.Tests;

/// <summary>
/// Resize beyond the ONNX node tests: backward through every kind of resampling step against finite differences,
/// tf_crop_and_resize against the specification's formula, and the asymmetric coordinates of Resize-10 and Upsample.
/// </summary>
public sealed class ResizeTests
{
    [Theory]
    [InlineData("nearest", 0, "half_pixel", 2f, 2f)]             // an integer factor: a repeat (Expand)
    [InlineData("nearest", 0, "asymmetric", 0.5f, 1f / 3)]       // every 2nd and 3rd element: a strided Slice
    [InlineData("nearest", 0, "half_pixel", 1.75f, 1.4f)]        // uneven picks: a Gather
    [InlineData("linear", 0, "align_corners", 1.5f, 0.75f)]
    [InlineData("linear", 1, "pytorch_half_pixel", 0.5f, 0.4f)]
    [InlineData("cubic", 0, "half_pixel", 1.7f, 0.6f)]
    [InlineData("cubic", 1, "half_pixel_symmetric", 0.6f, 0.5f)]
    public void Resize_BackwardThroughTheImportedNode_MatchesFiniteDifferences(string mode, int antialias, string coordinates, float scaleH, float scaleW)
    {
        var x = Ramp([1, 2, 4, 6], 0.7f);
        var graph = Graph([Node("Resize", ["x", "", "scales"], ["y"],
            ("mode", mode), ("antialias", antialias), ("coordinate_transformation_mode", coordinates))], "x", "y");
        graph.Initializer.Add(FloatTensor("scales", [4], [1f, 1f, scaleH, scaleW]));
        var model = Load(graph, 19);
        TapeGradientCheck.Check(new NaiveKernels(), tape => model.Run(tape, x), [x]);
    }

    [Fact]
    public void Resize_TfCropAndResize_IsBilinearInsideTheRoi_AndTheExtrapolationValueOutside()
    {
        // x [1, 1, 4, 5]; axes [3, 2] (roi and sizes list width first): width roi [0.1, 1.3] → 4, height roi [−0.2, 0.9] → 3.
        var x = Ramp([1, 1, 4, 5], 0.9f);
        var graph = Graph([Node("Resize", ["x", "roi", "", "sizes"], ["y"], ("mode", "linear"),
            ("coordinate_transformation_mode", "tf_crop_and_resize"), ("extrapolation_value", 10f), ("axes", new[] { 3, 2 }))], "x", "y");
        graph.Initializer.Add(FloatTensor("roi", [4], [0.1f, -0.2f, 1.3f, 0.9f]));
        graph.Initializer.Add(Int64Tensor("sizes", [2], [4, 3]));
        var y = Load(graph, 19).Run(NoGrad(), x);

        Assert.Equal([1, 1, 3, 4], y.Shape.ToArray());
        // x_original = start·(n − 1) + o·(end − start)·(n − 1)/(m − 1); outside [0, n − 1] the output is the extrapolation value.
        double Source(int o, double start, double end, int n, int m) => start * (n - 1) + o * (end - start) * (n - 1) / (m - 1);
        for (int oy = 0; oy < 3; oy++)
            for (int ox = 0; ox < 4; ox++)
            {
                double sy = Source(oy, -0.2f, 0.9f, 4, 3), sx = Source(ox, 0.1f, 1.3f, 5, 4);
                double expected = 10;
                if (sy is >= 0 and <= 3 && sx is >= 0 and <= 4)
                {
                    int y0 = (int)Math.Floor(sy), x0 = (int)Math.Floor(sx), y1 = Math.Min(y0 + 1, 3), x1 = Math.Min(x0 + 1, 4);
                    double fy = sy - y0, fx = sx - x0;
                    expected = (1 - fy) * ((1 - fx) * x[0, 0, y0, x0] + fx * x[0, 0, y0, x1]) + fy * ((1 - fx) * x[0, 0, y1, x0] + fx * x[0, 0, y1, x1]);
                }
                Assert.Equal(expected, y[0, 0, oy, ox], 5);
            }
        // The first row samples height −0.6 and the last column width 5.2: both outside, so both are filled.
        Assert.Equal(10f, y[0, 0, 0, 1]);
        Assert.Equal(10f, y[0, 0, 1, 3]);
    }

    [Theory]
    [InlineData("Resize", 10)]
    [InlineData("Upsample", 9)]
    public void OldResizeAndUpsample_Linear_SampleAtAsymmetricCoordinates(string opType, int opset)
    {
        // Width 4 × 2.5 = 10 outputs at x_original = o / 2.5; beyond the last element the edge is repeated.
        var x = Tensor.FromArray([1f, 4f, 2f, 8f], 1, 1, 1, 4);
        var graph = Graph([Node(opType, ["x", "scales"], ["y"], ("mode", "linear"))], "x", "y");
        graph.Initializer.Add(FloatTensor("scales", [4], [1f, 1f, 1f, 2.5f]));
        var y = Load(graph, opset).Run(NoGrad(), x).ToArray();
        Assert.Equal(10, y.Length);
        for (int o = 0; o < 10; o++)
        {
            double source = o / 2.5;
            int i0 = (int)Math.Floor(source), i1 = Math.Min(i0 + 1, 3);
            double f = source - i0;
            Assert.Equal((1 - f) * x.Data[i0] + f * x.Data[i1], y[o], 5);
        }
    }

    private static Tape NoGrad() => new(new NaiveKernels()) { GradEnabled = false };

    private static Tensor Ramp(int[] dims, float step)
    {
        var size = new Shape(dims).Size;
        return Tensor.FromArray(Enumerable.Range(0, size).Select(i => MathF.Sin(i * step) + 0.1f * i).ToArray(), dims);
    }
}
