using NanoCam.Autodiff;
using NanoCam.Cpu.Naive;
using NanoCam.Onnx.Protos;
using static NanoCam.Onnx.Tests.TestGraphs;

namespace NanoCam.Onnx.Tests;

/// <summary>
/// Bad models get one line that names the operator, node and opset, and never the file's raw bytes: an opset newer
/// than NanoCam knows, external data outside the model's folder, names with control characters, sizes beyond reason.
/// </summary>
public sealed class ImporterErrorTests
{
    private static GraphProto AddGraph(TensorProto weight)
    {
        var graph = new GraphProto();
        graph.Initializer.Add(weight);
        graph.Input.Add(FloatInfo("x", 3));
        graph.Output.Add(FloatInfo("y", 3));
        graph.Node.Add(Node("Add", "add", ["x", "w"], ["y"]));
        return graph;
    }

    private static TensorProto External(string location)
    {
        var weight = new TensorProto { Name = "w", DataType = (int)OnnxDataType.Float, DataLocation = TensorProto.Types.DataLocation.External };
        weight.Dims.Add(3);
        weight.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        return weight;
    }

    [Theory]
    [InlineData("../outside.bin")]
    [InlineData("sub/../../outside.bin")]
    [InlineData("/etc/passwd")]
    public void ExternalDataOutsideTheModelsFolder_IsRefused_BeforeAnyFileIsRead(string location)
    {
        var ex = Assert.Throws<InvalidDataException>(() => Load(AddGraph(External(location)), 13));
        Assert.Contains("outside the model's folder", ex.Message);
    }

    [Fact]
    public void ExternalDataOffset_ThatIsNotANumber_IsOneLineWithoutTheRawText()
    {
        var weight = External("weights.bin");
        weight.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = "12\u001b[31m\n" });

        var ex = Assert.Throws<InvalidDataException>(() => Load(AddGraph(weight), 13));
        Assert.Contains("offset", ex.Message);
        Assert.DoesNotContain('\u001b', ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void AnOpsetNewerThanNanoCamKnows_IsNamed()
    {
        var graph = Graph([Node("Relu", ["x"], ["y"])], "x", "y");
        var ex = Assert.Throws<NotSupportedException>(() => Load(graph, 99));
        Assert.Contains("opset 99", ex.Message);
        Assert.Contains("newer than NanoCam knows", ex.Message);
    }

    [Fact]
    public void NamesWithControlCharacters_AreEscapedInErrors()
    {
        var graph = Graph([Node("Relu", "evil\u001b[2J\u0007node", ["x\n\u0000missing"], ["y"])], "x", "y");
        var ex = Assert.Throws<InvalidDataException>(() => Load(graph, 13));
        Assert.Contains("\\u001B[2J\\u0007node", ex.Message);
        Assert.True(ex.Message.All(ch => !char.IsControl(ch)), ex.Message);
    }

    [Fact]
    public void AnUnknownAttributeValue_NamesTheNodeOperatorAndOpset()
    {
        var graph = Graph([Node("Pad", "pad", ["x", "pads"], ["y"], ("mode", "mirror"))], "x", "y");
        var pads = new TensorProto { Name = "pads", DataType = (int)OnnxDataType.Int64 };
        pads.Dims.Add(2);
        pads.Int64Data.Add([1, 1]);
        graph.Initializer.Add(pads);
        var model = Load(graph, 13);
        var ex = Assert.Throws<NotSupportedException>(() => model.Run(new Tape(NaiveKernels.Instance) { GradEnabled = false }, Tensor.Zeros(4)));
        Assert.Contains("ONNX node pad (Pad, opset 13): mode 'mirror'", ex.Message);
    }

    [Fact]
    public void AReshapeToAnAbsurdSize_IsOneLineNotAnAllocation()
    {
        var graph = Graph([Node("Expand", "expand", ["x", "shape"], ["y"])], "x", "y");
        var shape = new TensorProto { Name = "shape", DataType = (int)OnnxDataType.Int64 };
        shape.Dims.Add(3);
        shape.Int64Data.Add([1 << 20, 1 << 20, 1 << 20]);
        graph.Initializer.Add(shape);
        var model = Load(graph, 13);
        var ex = Assert.Throws<ArgumentException>(() => model.Run(new Tape(NaiveKernels.Instance) { GradEnabled = false }, Tensor.Zeros(1)));
        Assert.Contains("expand", ex.Message);
    }

    [Fact]
    public void AGraphInputDeclaringAnAbsurdDimension_IsRefusedAtLoad()
    {
        var graph = Graph([Node("Relu", ["x"], ["y"])], "x", "y");
        graph.Input.Clear();
        graph.Input.Add(FloatInfo("x", 1, 3, 1 << 30));
        var ex = Assert.Throws<InvalidDataException>(() => Load(graph, 13));
        Assert.Contains("1073741824", ex.Message);
    }
}
