using NanoCam.Autodiff;
using NanoCam.Cpu.Naive;
using NanoCam.Onnx.Protos;
using static NanoCam.Onnx.Tests.TestGraphs;

namespace NanoCam.Onnx.Tests;

/// <summary>Operators the node tests leave out: CastLike (a Cast to another input's type) and Size.</summary>
public sealed class CastAndSizeTests
{
    [Fact]
    public void CastLike_RoundsToTheSecondInputsType_AndSizeCountsElements()
    {
        var like = new TensorProto { Name = "like", DataType = (int)OnnxDataType.Float16 };
        like.Dims.Add(1);
        like.Int32Data.Add(BitConverter.HalfToUInt16Bits((Half)1f));
        var graph = Graph([Node("CastLike", "cast", ["x", "like"], ["y"]), Node("Size", "size", ["x"], ["n"])], "x", "y");
        graph.Output.Add(new ValueInfoProto { Name = "n" });
        graph.Initializer.Add(like);
        var model = Load(graph, 15);
        // 1 + 2^-12 is not a half; the nearest half (ties to even) is 1.
        var x = Tensor.FromArray([1f + MathF.ScaleB(1f, -12), 3.14159f, 65519f], 3);
        var outputs = model.Run(new Tape(NaiveKernels.Instance) { GradEnabled = false }, new Dictionary<string, OnnxValue> { ["x"] = OnnxValue.FromTensor(x) });
        Assert.Equal([1f, (float)(Half)3.14159f, 65504f], outputs["y"].ToFloatArray());
        Assert.Equal(OnnxDataType.Float16, outputs["y"].ElementType);
        Assert.Equal([3L], outputs["n"].ToInt64Array());
    }
}
