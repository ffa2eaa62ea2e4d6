using NanoCam.Autodiff;
using NanoCam.Core.Tests;
using NanoCam.Cpu.Naive;
using static NanoCam.Onnx.Tests.TestGraphs;

namespace NanoCam.Onnx.Tests;

/// <summary>
/// 3-D pooling (run as separable 2-D sweeps) against a direct loop over the whole 3-D window, its backward against
/// finite differences, and Dropout's training mode.
/// </summary>
public sealed class PoolingTests
{
    // x [2, 2, 5, 6, 7]; kernel [2, 3, 2], strides [2, 1, 3], dilations [1, 2, 1], pads begin [1, 0, 1] end [0, 1, 1], ceil.
    private static readonly int[] InputDims = [2, 2, 5, 6, 7];
    private static readonly int[] Kernel = [2, 3, 2], Strides = [2, 1, 3], Dilations = [1, 2, 1], PadBegin = [1, 0, 1], PadEnd = [0, 1, 1];

    private static (string, object)[] Attributes(params (string, object)[] extra) =>
    [
        ("kernel_shape", Kernel), ("strides", Strides), ("dilations", Dilations), ("pads", (int[])[.. PadBegin, .. PadEnd]), ("ceil_mode", 1), .. extra,
    ];

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void MaxPool3d_MatchesADirectLoop_ValuesAndIndices(int storageOrder)
    {
        var x = Distinct(InputDims, seed: 3);
        var model = SingleNode(Node("MaxPool", ["x"], ["y", "i"], Attributes(("storage_order", storageOrder))), 22);
        var outputs = model.Run(NoGrad(), new Dictionary<string, OnnxValue> { ["x"] = OnnxValue.FromTensor(x) });
        var (values, indices, dims) = DirectPool(x, (taps, _) =>
        {
            // First maximum in row-major order, as the ONNX reference.
            var best = taps[0];
            foreach (var t in taps) if (t.Value > best.Value) best = t;
            return best;
        }, storageOrder == 1);
        Assert.Equal(dims, outputs["y"].Dims);
        Assert.Equal(values, outputs["y"].ToFloatArray());
        Assert.Equal(indices, outputs["i"].ToInt64Array());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void AveragePool3d_MatchesADirectLoop_EitherPaddingCount(int countIncludePad)
    {
        var x = Distinct(InputDims, seed: 4);
        var y = Run(Node("AveragePool", ["x"], ["y"], Attributes(("count_include_pad", countIncludePad))), 22, ("x", x));
        var (values, _, dims) = DirectPool(x, (taps, padded) =>
        {
            // Divisor: the taps inside the input, or with count_include_pad those inside the padded input.
            float sum = taps.Sum(t => t.Value);
            return (sum / (countIncludePad == 1 ? padded : taps.Count), -1);
        }, columnMajor: false);
        Assert.Equal(dims, y.Shape.ToArray());
        var actual = y.ToArray();
        for (int i = 0; i < values.Length; i++) Assert.Equal(values[i], actual[i], 1e-6f);
    }

    [Theory]
    [InlineData("MaxPool", 0)]
    [InlineData("AveragePool", 0)]
    [InlineData("AveragePool", 1)]
    public void Pool3d_BackwardThroughTheImportedNode_MatchesFiniteDifferences(string op, int countIncludePad)
    {
        // Small input with values 0.05 apart, so a ±0.01 step never changes which tap wins a max.
        var x = Distinct([1, 2, 4, 5, 4], seed: 5);
        var attributes = op == "MaxPool" ? Attributes() : Attributes(("count_include_pad", countIncludePad));
        var model = SingleNode(Node(op, ["x"], ["y"], attributes), 22);
        TapeGradientCheck.Check(new NaiveKernels(), tape => model.Run(tape, x), [x]);
    }

    [Fact]
    public void Dropout_TrainingMode_DropsAboutRatio_AndScalesTheRestByOneOverKeep()
    {
        var x = Distinct([40, 100], seed: 6);
        var xs = x.ToArray();
        var (y, mask) = Dropout(x, ratio: 0.25f, training: true);
        Assert.Equal(OnnxDataType.Bool, mask.ElementType);
        var keep = mask.ToInt64Array();
        for (int i = 0; i < xs.Length; i++)
        {
            float expected = keep[i] == 1 ? xs[i] / 0.75f : 0f;
            Assert.True(Math.Abs(y[i] - expected) <= 1e-6f * Math.Abs(expected), $"y[{i}] = {y[i]}, expected {expected}");
        }
        // 4000 Bernoulli(0.75) draws: the kept fraction lies within 0.75 ± 0.03 (about 4.4 standard deviations).
        Assert.InRange(keep.Average(), 0.72, 0.78);

        (y, mask) = Dropout(x, ratio: 0.25f, training: false);
        Assert.Equal(xs, y);
        Assert.All(mask.ToInt64Array(), m => Assert.Equal(1L, m));
    }

    /// <summary>Dropout (opset 13) with the ratio and training_mode as initializers; returns y and the mask.</summary>
    private static (float[] Output, OnnxValue Mask) Dropout(Tensor x, float ratio, bool training)
    {
        var graph = Graph([Node("Dropout", ["x", "ratio", "training"], ["y", "mask"])], "x", "y");
        graph.Output.Add(new Protos.ValueInfoProto { Name = "mask" });
        graph.Initializer.Add(FloatTensor("ratio", [], [ratio]));
        var mode = new Protos.TensorProto { Name = "training", DataType = (int)OnnxDataType.Bool };
        mode.Int32Data.Add(training ? 1 : 0);
        graph.Initializer.Add(mode);
        var outputs = Load(graph, 13).Run(NoGrad(), new Dictionary<string, OnnxValue> { ["x"] = OnnxValue.FromTensor(x) });
        return (outputs["y"].ToFloatArray(), outputs["mask"]);
    }

    private static Tape NoGrad() => new(new NaiveKernels()) { GradEnabled = false };

    /// <summary>The values 0.05·k for k = 0 … size−1 in a seeded random order: no ties, and far apart for finite differences.</summary>
    private static Tensor Distinct(int[] dims, int seed)
    {
        int size = new Shape(dims).Size;
        var values = Enumerable.Range(0, size).Select(k => 0.05f * k - 0.025f * size).ToArray();
        new Random(seed).Shuffle(values);
        return Tensor.FromArray(values, dims);
    }

    /// <summary>
    /// Pools x [N, C, D, H, W] window by window: <paramref name="reduce"/> gets the in-input taps of one window in
    /// row-major order (value and offset within the D·H·W volume) and the number of taps inside the padded input.
    /// Output sizes follow the ONNX rule: ⌊ or ⌈ (in + pads − dilation·(k − 1) − 1) / stride ⌉ + 1, and with ceil mode a
    /// window that would start past the input and its begin padding is dropped.
    /// </summary>
    private static (float[] Values, long[] Indices, int[] Dims) DirectPool(Tensor x, Func<List<(float Value, int Offset)>, int, (float Value, int Offset)> reduce, bool columnMajor)
    {
        var inSize = InputDims[2..];
        var outSize = new int[3];
        for (int a = 0; a < 3; a++)
        {
            double span = inSize[a] + PadBegin[a] + PadEnd[a] - Dilations[a] * (Kernel[a] - 1) - 1;
            outSize[a] = (int)Math.Ceiling(span / Strides[a]) + 1;
            if ((outSize[a] - 1) * Strides[a] >= inSize[a] + PadBegin[a]) outSize[a]--;
        }
        int planes = InputDims[0] * InputDims[1], volume = inSize[0] * inSize[1] * inSize[2];
        var values = new List<float>();
        var indices = new List<long>();
        var xs = x.ToArray();
        for (int p = 0; p < planes; p++)
        for (int od = 0; od < outSize[0]; od++)
        for (int oh = 0; oh < outSize[1]; oh++)
        for (int ow = 0; ow < outSize[2]; ow++)
        {
            var taps = new List<(float, int)>();
            int padded = 0;
            for (int kd = 0; kd < Kernel[0]; kd++)
            for (int kh = 0; kh < Kernel[1]; kh++)
            for (int kw = 0; kw < Kernel[2]; kw++)
            {
                int[] at = [od * Strides[0] - PadBegin[0] + kd * Dilations[0], oh * Strides[1] - PadBegin[1] + kh * Dilations[1], ow * Strides[2] - PadBegin[2] + kw * Dilations[2]];
                bool inPadded = true, inInput = true;
                for (int a = 0; a < 3; a++)
                {
                    inPadded &= at[a] >= -PadBegin[a] && at[a] < inSize[a] + PadEnd[a];
                    inInput &= at[a] >= 0 && at[a] < inSize[a];
                }
                if (inPadded) padded++;
                if (inInput)
                {
                    int offset = columnMajor ? at[0] + inSize[0] * (at[1] + inSize[1] * at[2]) : (at[0] * inSize[1] + at[1]) * inSize[2] + at[2];
                    int rowMajor = (at[0] * inSize[1] + at[1]) * inSize[2] + at[2];
                    taps.Add((xs[p * volume + rowMajor], offset));
                }
            }
            var (value, winner) = reduce(taps, padded);
            values.Add(value);
            indices.Add((long)p * volume + winner);
        }
        return ([.. values], [.. indices], [InputDims[0], InputDims[1], .. outSize]);
    }
}
