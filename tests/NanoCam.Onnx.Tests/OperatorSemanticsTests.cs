using Google.Protobuf;
using NanoCam.Autodiff;
using NanoCam.Core.Tests;
using NanoCam.Cpu.Naive;
using NanoCam.Onnx.Protos;
using static NanoCam.Onnx.Tests.TestGraphs;

namespace NanoCam.Onnx.Tests;

/// <summary>Operator cases the ONNX node tests leave out: grouped/dilated/auto-padded Conv, 1-D Conv, old-opset attributes, external data.</summary>
public sealed class OperatorSemanticsTests
{
    [Theory]
    [InlineData("SAME_UPPER")]
    [InlineData("SAME_LOWER")]
    [InlineData("NOTSET")]
    public void Conv_WithGroupsDilationsStridesAndAutoPad_MatchesADirectLoop(string autoPad)
    {
        // x [1, 4, 7, 6], w [6, 2, 3, 2] (groups 2), strides [2, 1], dilations [2, 1], explicit pads [1, 0, 2, 1] when NOTSET.
        var x = Ramp([1, 4, 7, 6], 0.37f);
        var w = Ramp([6, 2, 3, 2], 0.11f);
        var b = Ramp([6], 0.5f);
        var node = Node("Conv", ["x", "w", "b"], ["y"]);
        node.Attribute.Add(Ints("strides", 2, 1));
        node.Attribute.Add(Ints("dilations", 2, 1));
        node.Attribute.Add(new AttributeProto { Name = "group", Type = AttributeProto.Types.AttributeType.Int, I = 2 });
        if (autoPad == "NOTSET") node.Attribute.Add(Ints("pads", 1, 0, 2, 1));
        else node.Attribute.Add(new AttributeProto { Name = "auto_pad", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(autoPad) });

        var y = Run(node, 17, ("x", x), ("w", w), ("b", b));

        // SAME: out = ceil(in / stride); total pad = (out − 1)·stride + dilation·(kernel − 1) + 1 − in (height 4, width 1),
        // split evenly, the odd cell at the end (UPPER) or the start (LOWER).
        (int top, int left) = autoPad switch { "SAME_UPPER" => (2, 0), "SAME_LOWER" => (2, 1), _ => (1, 0) };
        int outH = autoPad == "NOTSET" ? (7 + 1 + 2 - 5) / 2 + 1 : 4, outW = autoPad == "NOTSET" ? (6 + 0 + 1 - 2) / 1 + 1 : 6;
        var expected = new float[6 * outH * outW];
        for (int k = 0; k < 6; k++)
            for (int oy = 0; oy < outH; oy++)
                for (int ox = 0; ox < outW; ox++)
                {
                    float sum = b.Data[k];
                    int group = k / 3;
                    for (int c = 0; c < 2; c++)
                        for (int r = 0; r < 3; r++)
                            for (int s = 0; s < 2; s++)
                            {
                                int iy = oy * 2 + r * 2 - top, ix = ox + s - left;
                                if (iy >= 0 && iy < 7 && ix >= 0 && ix < 6)
                                    sum += w[k, c, r, s] * x[0, group * 2 + c, iy, ix];
                            }
                    expected[(k * outH + oy) * outW + ox] = sum;
                }
        Assert.Equal([1, 6, outH, outW], y.Shape.ToArray());
        var actual = y.ToArray();
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-4f);
    }

    [Fact]
    public void Conv1d_RunsAsConv2dWithHeightOne()
    {
        var x = Ramp([1, 2, 5], 0.3f);
        var w = Ramp([3, 2, 2], 0.2f);
        var node = Node("Conv", ["x", "w"], ["y"]);
        node.Attribute.Add(Ints("pads", 1, 0));
        var y = Run(node, 13, ("x", x), ("w", w));
        Assert.Equal([1, 3, 5], y.Shape.ToArray());
        for (int k = 0; k < 3; k++)
            for (int o = 0; o < 5; o++)
            {
                float sum = 0;
                for (int c = 0; c < 2; c++)
                    for (int s = 0; s < 2; s++)
                        if (o + s - 1 is >= 0 and < 5) sum += w[k, c, s] * x[0, c, o + s - 1];
                Assert.Equal(sum, y[0, k, o], 1e-5f);
            }
    }

    [Fact]
    public void OldOpsets_ClipTakesAttributes_SoftmaxFlattensFromAxisOne()
    {
        // Opset 9: Clip(min, max as attributes) then Softmax with the pre-13 rule over [1, 2, 2] seen as [1, 4].
        var clip = Node("Clip", ["x"], ["c"]);
        clip.Attribute.Add(new AttributeProto { Name = "min", Type = AttributeProto.Types.AttributeType.Float, F = -1f });
        clip.Attribute.Add(new AttributeProto { Name = "max", Type = AttributeProto.Types.AttributeType.Float, F = 1f });
        var softmax = Node("Softmax", ["c"], ["y"]);
        var graph = Graph([clip, softmax], "x", "y");
        var model = Load(graph, 9);
        var y = model.Run(new Tape(new NaiveKernels()) { GradEnabled = false }, Tensor.FromArray([-3f, 0.5f, 2f, 0f], 1, 2, 2)).ToArray();
        float[] clipped = [-1f, 0.5f, 1f, 0f];
        float total = clipped.Sum(MathF.Exp);
        for (int i = 0; i < 4; i++) Assert.Equal(MathF.Exp(clipped[i]) / total, y[i], 1e-6f);
    }

    [Fact]
    public void ExternalData_IsReadFromTheFileBesideTheModel()
    {
        var dir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"nanocam-external-{Guid.NewGuid():N}"));
        try
        {
            float[] values = [1f, 2f, 3f];
            var bytes = new byte[8 + 12];
            Buffer.BlockCopy(values, 0, bytes, 8, 12);
            File.WriteAllBytes(Path.Combine(dir.FullName, "weights.bin"), bytes);
            var w = new TensorProto { Name = "w", DataType = 1, DataLocation = TensorProto.Types.DataLocation.External };
            w.Dims.Add(3);
            w.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "weights.bin" });
            w.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = "8" });
            w.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = "12" });
            var graph = Graph([Node("Mul", ["x", "w"], ["y"])], "x", "y");
            graph.Initializer.Add(w);
            var path = Path.Combine(dir.FullName, "model.onnx");
            File.WriteAllBytes(path, Model(graph, 13).ToByteArray());
            var model = OnnxModel.Load(path);
            Assert.Equal(values, model.Parameters["w"].ToArray());
        }
        finally { dir.Delete(recursive: true); }
    }

    [Fact]
    public void Gather_OnFloatData_WithATwoByTwoIndexTensor_InsertsItsShapeAtTheAxis()
    {
        // data [2, 4, 3], indices [[3, -4], [1, 3]] along axis 1 → [2, 2, 2, 3]; -4 is index 0.
        var data = Ramp([2, 4, 3], 0.3f);
        var graph = Graph([Node("Gather", ["data", "indices"], ["y"], ("axis", 1))], "data", "y");
        graph.Initializer.Add(Int64Tensor("indices", [2, 2], [3, -4, 1, 3]));
        var y = Load(graph, 13).Run(new Tape(new NaiveKernels()) { GradEnabled = false }, data);
        Assert.Equal([2, 2, 2, 3], y.Shape.ToArray());
        int[,] picked = { { 3, 0 }, { 1, 3 } };
        for (int o = 0; o < 2; o++)
            for (int r = 0; r < 2; r++)
                for (int c = 0; c < 2; c++)
                    for (int i = 0; i < 3; i++)
                        Assert.Equal(data[o, picked[r, c], i], y[o, r, c, i]);
    }

    [Fact]
    public void Slice_KeepingEveryElement_IsAViewOfItsInput_AndBackwardMatchesFiniteDifferences()
    {
        // ends past the axis clamp to it: the slice keeps all of x [2, 3, 4], then y = s·s.
        var graph = Graph([Node("Slice", ["x", "starts", "ends", "axes"], ["s"]), Node("Mul", ["s", "s"], ["y"])], "x", "y");
        graph.Initializer.Add(Int64Tensor("starts", [2], [0, 0]));
        graph.Initializer.Add(Int64Tensor("ends", [2], [long.MaxValue, 3]));
        graph.Initializer.Add(Int64Tensor("axes", [2], [2, 1]));
        var model = Load(graph, 13);
        var tape = new Tape(new NaiveKernels()) { GradEnabled = false };
        foreach (float step in new[] { 0.3f, 0.9f })
        {
            // A second pass with other values reads them (the view follows its input).
            var x = Ramp([2, 3, 4], step);
            tape.Reset();
            var y = model.Run(tape, x);
            Assert.Equal([2, 3, 4], y.Shape.ToArray());
            Assert.Equal(x.ToArray().Select(v => v * v), y.ToArray());
            Assert.Contains(tape.Nodes, n => n.Kind == "Reshape");
            Assert.DoesNotContain(tape.Nodes, n => n.Kind == "Slice");
        }
        var input = Ramp([2, 3, 4], 0.5f);
        TapeGradientCheck.Check(new NaiveKernels(), t => model.Run(t, input), [input]);
    }

    [Theory]
    [InlineData("Expand", new long[] { 1, 1 }, true)]          // a shape of 1s broadcasts to x's own shape
    [InlineData("Expand", new long[] { 3, 1 }, true)]
    [InlineData("Expand", new long[] { 2, 2, 3, 4 }, false)]   // a new leading axis of 2: a copy
    [InlineData("Tile", new long[] { 1, 1, 1 }, true)]
    [InlineData("Tile", new long[] { 1, 2, 1 }, false)]
    public void ExpandAndTile_ThatKeepTheShape_AreViews_AndBackwardMatchesFiniteDifferences(string op, long[] sizes, bool view)
    {
        var graph = Graph([Node(op, ["x", "sizes"], ["e"]), Node("Mul", ["e", "e"], ["y"])], "x", "y");
        graph.Initializer.Add(Int64Tensor("sizes", [sizes.Length], sizes));
        var model = Load(graph, 13);
        var x = Ramp([2, 3, 4], 0.4f);
        var tape = new Tape(new NaiveKernels()) { GradEnabled = false };
        var y = model.Run(tape, x);
        Assert.Equal(view, tape.Nodes.All(n => n.Kind is "Reshape" or "Mul"));
        if (view) Assert.Equal(x.ToArray().Select(v => v * v), y.ToArray());
        TapeGradientCheck.Check(new NaiveKernels(), t => model.Run(t, x), [x]);
    }

    private static Tensor Ramp(int[] dims, float step)
    {
        var size = new Shape(dims).Size;
        return Tensor.FromArray(Enumerable.Range(0, size).Select(i => MathF.Sin(i * step) + 0.1f).ToArray(), dims);
    }
}
