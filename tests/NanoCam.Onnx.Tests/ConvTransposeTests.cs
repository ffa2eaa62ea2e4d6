using NanoCam.Autodiff;
using NanoCam.Core.Tests;
using NanoCam.Cpu.Naive;
using static NanoCam.Onnx.Tests.TestGraphs;

namespace NanoCam.Onnx.Tests;

/// <summary>
/// ConvTranspose against a direct scatter — y[n, g·M/G + m, p] += x[n, g·C/G + c, i]·W[g·C/G + c, m, k] at
/// p = i·stride − padBegin + k·dilation — in the cases the node tests leave out (output_padding beyond the stride,
/// negative and asymmetric padding, SAME_LOWER, 3-D with groups and strides), and its backward against finite differences.
/// </summary>
public sealed class ConvTransposeTests
{
    [Fact]
    public void ConvTranspose2d_WithStridesAndGroups_BackwardMatchesFiniteDifferences()
    {
        // x [1, 4, 3, 3], W [4, 3, 3, 2] with group 2 (M = 6), strides [2, 3], pads [1, 0, 0, 1], output_padding [1, 1].
        var x = Ramp([1, 4, 3, 3], 0.37f);
        var w = Ramp([4, 3, 3, 2], 0.23f);
        var b = Ramp([6], 0.9f);
        var model = SingleNode(Node("ConvTranspose", ["x", "w", "b"], ["y"],
            ("group", 2), ("strides", new[] { 2, 3 }), ("pads", new[] { 1, 0, 0, 1 }), ("output_padding", new[] { 1, 1 })), 22);
        Tensor Forward(Tape tape) => model.Run(tape, Inputs(("x", x), ("w", w), ("b", b)))["y"].Tensor!;
        Assert.Equal([1, 6, 7, 8], Forward(NoGrad()).Shape.ToArray());   // 2·2 + 1 + 3 − 1 = 7, 3·2 + 1 + 2 − 1 = 8
        TapeGradientCheck.Check(new NaiveKernels(), Forward, [x, w, b]);
    }

    /// <summary>Cases with the output size and begin padding worked out by hand from the ONNX formulas.</summary>
    public static TheoryData<string, int[], int[], int, (string, object)[], int[], int[]> Cases => new()
    {
        // 1-D: out = 2·(5 − 1) + 1 + 3 − 1 − 2 = 9.
        { "1-D, output_padding and pads", [2, 2, 5], [2, 3, 3], 1, [("strides", new[] { 2 }), ("pads", new[] { 1, 2 }), ("output_padding", new[] { 1 })], [9], [1] },
        // Height: output_padding 2 ≥ stride 2 (dilation 3) → out = 2·3 + 2 + 3·2 + 1 − 0 − 1 = 14, its last row beyond every tap.
        // Width: out = 1·3 + 0 + 2 − 1 − 0 = 4.
        { "2-D, output_padding beyond the stride, groups", [1, 4, 4, 4], [4, 2, 3, 2], 2,
            [("strides", new[] { 2, 1 }), ("dilations", new[] { 3, 1 }), ("output_padding", new[] { 2, 0 }), ("pads", new[] { 0, 1, 1, 0 })], [14, 4], [0, 1] },
        // SAME_LOWER, strides 3: out = 3·in; total = 3·(3 − 1) + 3 − 9 = 0 (height), 3·(2 − 1) + 2 − 6 = −1 (width), ⌊total/2⌋ at the end.
        { "2-D, SAME_LOWER with a negative total padding", [1, 2, 3, 2], [2, 1, 3, 2], 1,
            [("strides", new[] { 3, 3 }), ("auto_pad", "SAME_LOWER")], [9, 6], [0, 0] },
        // SAME_UPPER with output_shape [6, 9]: total = 2·(3 − 1) + 3 − 6 = 1 → begin 0; 2·(4 − 1) + 2 − 9 = −1 → begin ⌊−½⌋ = −1.
        { "2-D, SAME_UPPER with output_shape", [1, 2, 3, 4], [2, 2, 3, 2], 1,
            [("strides", new[] { 2, 2 }), ("auto_pad", "SAME_UPPER"), ("output_shape", new[] { 6, 9 })], [6, 9], [0, -1] },
        // 3-D: depth 2·(3 − 1) + 2 − 1 − 1 = 4, height 1·(3 − 1) + 2·(2 − 1) + 1 = 5, width 2·(2 − 1) + 3 − 0 − 1 = 4.
        { "3-D, groups, strides, dilations and pads", [2, 4, 3, 3, 2], [4, 1, 2, 2, 3], 2,
            [("strides", new[] { 2, 1, 2 }), ("dilations", new[] { 1, 2, 1 }), ("pads", new[] { 1, 0, 0, 1, 0, 1 })], [4, 5, 4], [1, 0, 0] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ConvTranspose_MatchesADirectScatter(string name, int[] xDims, int[] wDims, int groups, (string, object)[] attributes, int[] outputSpatial, int[] padBegin)
    {
        var x = Ramp(xDims, 0.31f);
        var w = Ramp(wDims, 0.17f);
        int m = wDims[1] * groups;
        var b = Ramp([m], 0.5f);
        var model = SingleNode(Node("ConvTranspose", ["x", "w", "b"], ["y"], [("group", groups), .. attributes]), 22);
        var y = model.Run(NoGrad(), Inputs(("x", x), ("w", w), ("b", b)))["y"].Tensor!;

        var expected = DirectScatter(x, w, b, groups, attributes, outputSpatial, padBegin);
        Assert.True(y.Shape.ToArray().SequenceEqual([xDims[0], m, .. outputSpatial]), $"{name}: shape {y.Shape}");
        var actual = y.ToArray();
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 * (1 + Math.Abs(expected[i])), $"{name}: [{i}] {actual[i]} vs {expected[i]}");
    }

    /// <summary>The transposed convolution by its definition: every input element scattered through every kernel tap, plus the bias.</summary>
    private static double[] DirectScatter(Tensor x, Tensor w, Tensor b, int groups, (string Name, object Value)[] attributes, int[] outputSpatial, int[] padBegin)
    {
        int spatial = outputSpatial.Length, n = x.Shape[0], c = x.Shape[1], m = w.Shape[1] * groups;
        int[] Attribute(string key) => attributes.FirstOrDefault(a => a.Name == key).Value as int[] ?? Enumerable.Repeat(1, spatial).ToArray();
        var strides = Attribute("strides");
        var dilations = Attribute("dilations");
        var inSize = x.Shape.ToArray()[2..];
        var kernel = w.Shape.ToArray()[2..];
        int outVolume = outputSpatial.Aggregate(1, (p, d) => p * d), inVolume = inSize.Aggregate(1, (p, d) => p * d), kVolume = kernel.Aggregate(1, (p, d) => p * d);
        var y = new double[n * m * outVolume];
        var xs = x.ToArray();
        var ws = w.ToArray();
        for (int img = 0; img < n; img++)
            for (int ci = 0; ci < c; ci++)
                for (int mo = 0; mo < w.Shape[1]; mo++)
                {
                    int co = ci / (c / groups) * (m / groups) + mo;
                    for (int i = 0; i < inVolume; i++)
                        for (int k = 0; k < kVolume; k++)
                        {
                            int offset = 0;
                            bool inside = true;
                            for (int a = 0, ri = i, rk = k, stride = inVolume, kstride = kVolume; a < spatial; a++)
                            {
                                stride /= inSize[a];
                                kstride /= kernel[a];
                                int ia = ri / stride, ka = rk / kstride;
                                ri %= stride;
                                rk %= kstride;
                                int p = ia * strides[a] - padBegin[a] + ka * dilations[a];
                                inside &= p >= 0 && p < outputSpatial[a];
                                offset = offset * outputSpatial[a] + p;
                            }
                            if (inside)
                                y[(img * m + co) * outVolume + offset] += xs[(img * c + ci) * inVolume + i] * ws[(ci * w.Shape[1] + mo) * kVolume + k];
                        }
                }
        for (int img = 0; img < n; img++)
            for (int co = 0; co < m; co++)
                for (int o = 0; o < outVolume; o++) y[(img * m + co) * outVolume + o] += b.Data[co];
        return y;
    }

    private static Dictionary<string, OnnxValue> Inputs(params (string Name, Tensor Value)[] inputs) =>
        inputs.ToDictionary(i => i.Name, i => OnnxValue.FromTensor(i.Value));

    private static Tape NoGrad() => new(new NaiveKernels()) { GradEnabled = false };

    private static Tensor Ramp(int[] dims, float step)
    {
        var size = new Shape(dims).Size;
        return Tensor.FromArray(Enumerable.Range(0, size).Select(i => MathF.Sin(i * step + 0.3f)).ToArray(), dims);
    }
}
