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
}

/// <summary>Runs <see cref="ImportedModelParityTests"/> on ILGPU's CPU accelerator.</summary>
public sealed class ImportedModelParityOnCpuAccelerator() : ImportedModelParityTests("ilgpu-cpu");
