using NanoCam.Autodiff;
using NanoCam.Explain;
using NanoCam.Explain.Methods;
using NanoCam.Nn.Models;
using NanoCam.Nn.Modules;
using NanoCam.Nn.Optim;
using NanoCam.Nn.Training;

namespace NanoCam.Gpu.Tests;

/// <summary>
/// The whole engine on ILGPU's CPU accelerator against the naive backend: training steps (forward, loss, backward,
/// update) and every explanation method, from identical models and inputs, with the data crossing the host/device edge
/// only where the engine stages it.
/// </summary>
public abstract class EngineParityTests(string device) : ParityTest(device)
{
    private static (Tensor Images, Tensor Labels) Batch(int count, int classes, int height, int width, int seed)
    {
        var rng = new Random(seed);
        var images = Random(rng, count, 3, height, width);
        var labels = Tensor.Zeros(count);
        for (int n = 0; n < count; n++) labels.Span[n] = n % classes;
        return (images, labels);
    }

    [Theory]
    [InlineData("vgg", "sgd")]
    [InlineData("resnet", "sgd")]
    [InlineData("gapcnn", "adam")]
    [InlineData("abn-vgg", "sgd")]
    [InlineData("abn-resnet", "adam")]
    public void TrainingSteps_OnDevice_MatchNaive(string architecture, string optimizerName)
    {
        var (images, labels) = Batch(3, 4, 13, 11, seed: 5);
        var onHost = Architectures.Create(architecture, 3, 4, seed: 9);
        var onDevice = Architectures.Create(architecture, 3, 4, seed: 9);
        onDevice.MoveTo(Gpu);
        Assert.All(onDevice.StateDict().Values, t => Assert.False(t.IsOnHost));
        Optimizer Make(IKernels k, GapCnn m) => optimizerName == "sgd"
            ? new Sgd(k, m.TrainableParameters(), 0.05f, 0.9f, 1e-4f)
            : new Adam(k, m.TrainableParameters(), 1e-3f, weightDecay: 1e-4f);
        var hostStep = new TrainingStep(onHost, Make(Naive, onHost), Naive, seed: 3);
        var deviceStep = new TrainingStep(onDevice, Make(Gpu, onDevice), Gpu, seed: 3);
        for (int step = 0; step < 3; step++)
        {
            var (hostLoss, hostCorrect) = hostStep.Run(images, labels);
            var (deviceLoss, deviceCorrect) = deviceStep.Run(images, labels);
            Assert.True(MathF.Abs(hostLoss - deviceLoss) <= 1e-5f * (1 + MathF.Abs(hostLoss)), $"step {step}: loss naive {hostLoss}, ilgpu {deviceLoss}");
            Assert.Equal(hostCorrect, deviceCorrect);
        }
        // Adam divides by sqrt(v): a gradient near zero gets a step of about ±lr whatever its size, so after Adam the
        // parameters are compared at the scale of lr·steps; SGD parameters are compared tightly.
        float tolerance = optimizerName == "sgd" ? 1e-4f : 1e-3f;
        var deviceState = onDevice.StateDict();
        foreach (var (name, host) in onHost.StateDict()) AssertClose(host, deviceState[name], tolerance, $"{architecture} {name} after 3 {optimizerName} steps");
    }

    /// <summary>Every CAM method but abn-attention, which needs an attention branch (its map is one published tensor, M, compared in AttentionMap_OnDevice_MatchesNaive).</summary>
    public static TheoryData<string> Methods => [.. CamMethods.Names.Where(name => name != "abn-attention")];

    [Theory]
    [MemberData(nameof(Methods))]
    public void EveryCamMethod_OnDevice_MatchesNaive(string method)
    {
        var (hostMap, deviceMap) = (Explain(Naive, method), Explain(Gpu, method));
        AssertClose(Tensor.FromArray(hostMap.Upsampled, hostMap.Upsampled.Length), Tensor.FromArray(deviceMap.Upsampled, deviceMap.Upsampled.Length), 1e-4f, $"{method} map");
        Assert.Equal(hostMap.Capture.TargetClasses, deviceMap.Capture.TargetClasses);
    }

    [Fact]
    public void AttentionMap_OnDevice_MatchesNaive()
    {
        var onHost = Architectures.Create("abn-vgg", 3, 4, seed: 9);
        var (images, labels) = Batch(4, 4, 16, 16, seed: 2);
        var step = new TrainingStep(onHost, new Sgd(Naive, onHost.TrainableParameters(), 0.05f), Naive);
        for (int i = 0; i < 2; i++) step.Run(images, labels); // running statistics for the attention map's batch norm
        var onDevice = Architectures.Create("abn-vgg", 3, 4, seed: 9);
        var state = onDevice.StateDict();
        foreach (var (name, t) in onHost.StateDict()) state[name].Buffer.CopyFrom(t.Span);
        onDevice.MoveTo(Gpu);
        var input = Batch(2, 4, 16, 16, seed: 8).Images;
        var host = new CamExplainer(new ModuleExplainable(onHost), Naive).Explain(new AbnAttention(), input, CamTarget.TopPrediction(), options: new ExplainOptions(Raw: true));
        var device = new CamExplainer(new ModuleExplainable(onDevice), Gpu).Explain(new AbnAttention(), input, CamTarget.TopPrediction(), options: new ExplainOptions(Raw: true));
        AssertClose(Tensor.FromArray(host.Upsampled, host.Upsampled.Length), Tensor.FromArray(device.Upsampled, device.Upsampled.Length), 1e-4f, "abn-attention map");
    }

    [Fact]
    public void GuidedBackpropAndGuidedGradCam_OnDevice_MatchNaive()
    {
        var (model, input) = Subject();
        var (hostExplainer, deviceExplainer) = (new CamExplainer(new ModuleExplainable(model), Naive), DeviceExplainer(model));
        var host = GuidedGradCam.Explain(hostExplainer, input, CamTarget.Class(1));
        var device = GuidedGradCam.Explain(deviceExplainer, input, CamTarget.Class(1));
        AssertClose(Tensor.FromArray(host.Guided.Values, host.Guided.Values.Length), Tensor.FromArray(device.Guided.Values, device.Guided.Values.Length), 1e-4f, "guided backprop");
        AssertClose(Tensor.FromArray(host.Values.Values, host.Values.Values.Length), Tensor.FromArray(device.Values.Values, device.Values.Values.Length), 1e-4f, "guided grad-cam");
    }

    /// <summary>
    /// A small GAP-CNN with batch norm, pooling and a dilated convolution: eight feature channels keep the methods that
    /// run one masked forward pass per channel (Score-CAM and relatives) quick on the simulated accelerator.
    /// </summary>
    private static GapCnn SmallNet()
    {
        var rng = new Random(21);
        return new GapCnn(new Sequential(new Conv2d(3, 8, 3, padding: 1, rng: rng), new BatchNorm2d(8), new ReLU(), new MaxPool2d(2),
            new Conv2d(8, 8, 3, padding: 2, dilation: 2, rng: rng), new ReLU()), 8, 4, rng);
    }

    private static (GapCnn Model, Tensor Input) Subject()
    {
        var model = SmallNet();
        // A few steps of training give the classifier non-trivial weights and the batch norms running statistics.
        var (images, labels) = Batch(4, 4, 16, 16, seed: 2);
        var step = new TrainingStep(model, new Sgd(Naive, model.TrainableParameters(), 0.05f), Naive);
        for (int i = 0; i < 3; i++) step.Run(images, labels);
        return (model, Batch(1, 4, 16, 16, seed: 8).Images);
    }

    private CamExplainer DeviceExplainer(GapCnn hostModel)
    {
        var copy = SmallNet();
        var state = copy.StateDict();
        foreach (var (name, t) in hostModel.StateDict()) state[name].Buffer.CopyFrom(t.Span);
        copy.MoveTo(Gpu);
        return new CamExplainer(new ModuleExplainable(copy), Gpu);
    }

    private CamResult Explain(IKernels kernels, string method)
    {
        var (model, input) = Subject();
        var explainer = kernels == Naive ? new CamExplainer(new ModuleExplainable(model), Naive) : DeviceExplainer(model);
        return explainer.Explain(CamMethods.Create(method), input, CamTarget.TopPrediction());
    }
}

/// <summary>Runs <see cref="EngineParityTests"/> on ILGPU's CPU accelerator.</summary>
public sealed class EngineParityOnCpuAccelerator() : EngineParityTests("ilgpu-cpu");
