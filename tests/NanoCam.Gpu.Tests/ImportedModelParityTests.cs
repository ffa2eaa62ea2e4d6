using NanoCam.Autodiff;
using NanoCam.Explain;
using NanoCam.Explain.Methods;
using NanoCam.Imaging;
using NanoCam.Onnx;

namespace NanoCam.Gpu.Tests;

/// <summary>
/// Imported ONNX models on an ILGPU accelerator: their operators call tape ops only, so the same graph runs on the
/// device with parameters and folded constants staged once. The op-mix model of shared/data/models/zoo (padded average
/// pooling, reflect Pad, PRelu, Elu, Tanh, Softplus, InstanceNormalization, ConvTranspose, nearest and bilinear
/// Resize, Slice, Tile, Expand, a spatial mean, shape arithmetic) and the MNIST network, against the naive kernels.
/// </summary>
public abstract class ImportedModelParityTests(string device) : ParityTest(device)
{
    private static string Data(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine([dir.FullName, "shared", "data", .. parts]);
            if (File.Exists(candidate)) return candidate;
        }
        return Path.Combine(["/work/shared/data", .. parts]);
    }

    [Fact]
    public void OpMixModel_LogitsAndGradCam_OnTheDevice_MatchTheNaiveKernels()
    {
        var model = OnnxModel.Load(Data("models", "zoo", "opmix.onnx"));
        var (input, shape) = Npy.Read(Data("models", "zoo", "opmix.input.npy"));
        var x = Tensor.FromArray(input, shape);
        var hostLogits = model.Run(new Tape(Naive) { GradEnabled = false }, x).ToArray();
        var deviceLogits = model.Run(new Tape(Gpu) { GradEnabled = false }, Upload(x));
        Assert.False(deviceLogits.IsOnHost);
        AssertClose(Tensor.FromArray(hostLogits, hostLogits.Length), Tensor.FromArray(deviceLogits.ToArray(), hostLogits.Length), 1e-5f, "opmix logits");

        const string layer = "/features/features.3/Relu_output_0";
        var onHost = new CamExplainer(new OnnxExplainable(model, null), Naive).Explain(CamMethods.Create("gradcam"), x, CamTarget.Class(7), layer);
        var onDevice = new CamExplainer(new OnnxExplainable(model, null), Gpu).Explain(CamMethods.Create("gradcam"), x, CamTarget.Class(7), layer);
        AssertClose(Tensor.FromArray(onHost.Normalized, onHost.Normalized.Length), Tensor.FromArray(onDevice.Normalized, onDevice.Normalized.Length), 1e-4f, "opmix Grad-CAM");
    }

    [Fact]
    public void MnistModel_OnTheDevice_MatchesTheNaiveKernels()
    {
        var model = OnnxModel.Load(Data("models", "mnist.onnx"));
        var x = Random(new Random(3), 1, 1, 28, 28);
        for (int i = 0; i < x.Size; i++) x.Span[i] = (x.Span[i] + 1) * 127.5f;
        var host = model.Run(new Tape(Naive) { GradEnabled = false }, x).ToArray();
        var device = model.Run(new Tape(Gpu) { GradEnabled = false }, Upload(x)).ToArray();
        AssertClose(Tensor.FromArray(host, host.Length), Tensor.FromArray(device, device.Length), 1e-5f, "mnist logits");
    }

    [Fact]
    public void FoldedBatchNormAndEpilogues_OnTheDevice_MatchTheUnfusedGraphOnTheNaiveKernels()
    {
        // x → Conv → BatchNormalization → Mul(·, Sigmoid(·)) → Conv → Clip(0, 6): the BN is folded into device copies of
        // the weight and bias, the SiLU and the ReLU6 run as the device convolutions' epilogues.
        var rng = new Random(5);
        var graph = new Onnx.Protos.GraphProto { Name = "bn-silu-relu6" };
        Onnx.Protos.TensorProto Initializer(string name, int[] dims, double low, double high)
        {
            var t = new Onnx.Protos.TensorProto { Name = name, DataType = (int)OnnxDataType.Float };
            t.Dims.AddRange(dims.Select(d => (long)d));
            t.FloatData.AddRange(Enumerable.Range(0, dims.Aggregate(1, (a, b) => a * b)).Select(_ => (float)(low + rng.NextDouble() * (high - low))));
            graph.Initializer.Add(t);
            return t;
        }
        Onnx.Protos.NodeProto Node(string op, string[] inputs, string output)
        {
            var node = new Onnx.Protos.NodeProto { OpType = op, Name = output };
            node.Input.AddRange(inputs);
            node.Output.Add(output);
            graph.Node.Add(node);
            return node;
        }
        Initializer("w1", [6, 3, 3, 3], -0.5, 0.5);
        Initializer("b1", [6], -0.2, 0.2);
        Initializer("scale", [6], 0.5, 2);
        Initializer("shift", [6], -1, 1);
        Initializer("mean", [6], -0.5, 0.5);
        Initializer("var", [6], 0.2, 3);
        Initializer("w2", [4, 6, 1, 1], -0.8, 0.8);
        Initializer("zero", [], 0, 0);
        Initializer("six", [], 6, 6);
        Node("Conv", ["x", "w1", "b1"], "c1").Attribute.Add(new Onnx.Protos.AttributeProto { Name = "pads", Type = Onnx.Protos.AttributeProto.Types.AttributeType.Ints, Ints = { 1, 1, 1, 1 } });
        Node("BatchNormalization", ["c1", "scale", "shift", "mean", "var"], "bn1");
        Node("Sigmoid", ["bn1"], "g1");
        Node("Mul", ["bn1", "g1"], "a1");
        Node("Conv", ["a1", "w2"], "c2");
        Node("Clip", ["c2", "zero", "six"], "y");
        graph.Input.Add(new Onnx.Protos.ValueInfoProto { Name = "x" });
        graph.Output.Add(new Onnx.Protos.ValueInfoProto { Name = "y" });
        var proto = new Onnx.Protos.ModelProto { IrVersion = 8, Graph = graph };
        proto.OpsetImport.Add(new Onnx.Protos.OperatorSetIdProto { Domain = "", Version = 14 });
        var model = OnnxModel.Load(Google.Protobuf.MessageExtensions.ToByteArray(proto), "bn-silu-relu6");
        Assert.Equal(1, model.Fusions.BatchNorms);
        Assert.Equal(2, model.Fusions.ActivationCount);

        var x = Random(new Random(6), 2, 3, 9, 7);
        for (int i = 0; i < x.Size; i++) x.Span[i] *= 3f;
        model.Fuse = false;
        var host = model.Run(new Tape(Naive) { GradEnabled = false }, x).ToArray();
        model.Fuse = true;
        var tape = new Tape(Gpu) { GradEnabled = false };
        var device = model.Run(tape, Upload(x)).ToArray();
        Assert.False(tape.Named.ContainsKey("bn1"));
        AssertClose(Tensor.FromArray(host, host.Length), Tensor.FromArray(device, device.Length), 1e-5f, "folded BN, SiLU and ReLU6 on the device");
    }
}

/// <summary>Runs <see cref="ImportedModelParityTests"/> on ILGPU's CPU accelerator.</summary>
public sealed class ImportedModelParityOnCpuAccelerator() : ImportedModelParityTests("ilgpu-cpu");
