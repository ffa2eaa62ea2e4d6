using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using NanoCam.Cli.Shared;
using NanoCam.Data;
using NanoCam.Explain;
using NanoCam.Explain.Methods;
using NanoCam.Imaging;
using NanoCam.Nn.Models;
using NanoCam.Onnx;

namespace NanoCam.Benchmarks.Explain;

/// <summary>
/// The two real networks of the method-latency table, as `nanocam explain` loads them: the shipped shapes network
/// (weights/shapes-vgg.safetensors, what `nanocam demo` trains; 3×64×64, a generated shapes test image) and SqueezeNet
/// v1.1 from the shared data (SqueezeNet_fp32_from_fp16.onnx on both.png, raw 0–255 BGR). SqueezeNet is left out, with
/// the reason printed, when the shared data does not have it.
/// </summary>
internal static class LatencyNetworks
{
    public const string Shapes = "shapes", SqueezeNet = "squeezenet";

    private static string ShapesCheckpoint => CamBenchmarkNetwork.FindUpwards(Path.Combine("weights", "shapes-vgg.safetensors"));

    /// <summary>The SqueezeNet file, or null when the shared data has none.</summary>
    private static string? SqueezeNetPath
    {
        get
        {
            try
            {
                var path = SharedData.Path("models", "SqueezeNet_fp32_from_fp16.onnx");
                return File.Exists(path) && File.Exists(SharedData.Path("images", "both.png")) ? path : null;
            }
            catch (DirectoryNotFoundException)
            {
                return null;
            }
        }
    }

    private static bool _absenceReported;

    /// <summary>The networks to time: shapes always, SqueezeNet when its file is there (otherwise one line says why not).</summary>
    public static IEnumerable<string> Available()
    {
        yield return Shapes;
        if (SqueezeNetPath is not null) yield return SqueezeNet;
        else if (!_absenceReported)
        {
            _absenceReported = true;
            Console.WriteLine("MethodLatency: SqueezeNet skipped: models/SqueezeNet_fp32_from_fp16.onnx or images/both.png not found in the shared data (set NANOCAM_DATA)");
        }
    }

    /// <summary>The network named <paramref name="name"/> and its one input image, [1, C, H, W].</summary>
    public static (IExplainable Model, Tensor Input) Load(string name)
    {
        switch (name)
        {
            case Shapes:
            {
                var trained = TrainedModel.Load(ShapesCheckpoint);
                var m = trained.Metadata;
                var chw = new float[m.InputChannels * m.InputHeight * m.InputWidth];
                new ShapesDataset(1, seed: 2).GetImage(0, chw);
                var image = RgbImage.FromPlanar(chw, m.InputChannels, m.InputHeight, m.InputWidth);
                return (new ModuleExplainable(trained.Network, m.Classes), ImageInput.FromImage(image, m));
            }
            case SqueezeNet:
            {
                var path = SqueezeNetPath ?? throw new FileNotFoundException("SqueezeNet_fp32_from_fp16.onnx not found in the shared data");
                var input = new Preprocessing(224, 224, Channels: 3, Bgr: true, Scale: 255f, Mean: [0f, 0f, 0f], Std: [1f, 1f, 1f])
                    .Apply(ImageCodec.Load(SharedData.Path("images", "both.png"))).Input;
                return (new OnnxExplainable(OnnxModel.Load(path), null), input);
            }
            default:
                throw new ArgumentException($"unknown network '{name}' (known: {Shapes}, {SqueezeNet})", nameof(name));
        }
    }

    private static readonly Dictionary<string, (IExplainable Model, Tensor Input)> Loaded = [];
    private static readonly HashSet<(string, string)> Reported = [];

    /// <summary>
    /// Why <paramref name="method"/> does not apply to <paramref name="network"/> at its default layer (as `nanocam explain`
    /// decides it: the CAM method's own check, Grad-CAM's for the input-space methods), or null when it does.
    /// </summary>
    public static string? WhyNot(string network, string method)
    {
        if (method == OverheadColumn.ForwardMethod) return null;
        if (!Loaded.TryGetValue(network, out var loaded)) Loaded[network] = loaded = Load(network);
        var cam = CamMethods.Create(MethodList.IsInputSpace(method) ? "gradcam" : method);
        var explainer = new CamExplainer(loaded.Model, new NanoCam.Cpu.Naive.NaiveKernels());
        return cam.WhyNotApplicable(loaded.Model, explainer.LayerFor(cam, null));
    }

    /// <summary>A case filter: keeps the cases whose method applies to their network, and prints once why each other one is left out.</summary>
    public static bool Applies(BenchmarkCase benchmarkCase)
    {
        string network = (string)benchmarkCase.Parameters["Network"], method = (string)benchmarkCase.Parameters["Algorithm"];
        if (WhyNot(network, method) is not { } why) return true;
        if (Reported.Add((network, method))) Console.WriteLine($"MethodLatency: {method} skipped on {network}: {why}");
        return false;
    }
}

/// <summary>
/// Leaves out the (network, method) cases that `nanocam explain` would refuse (<see cref="LatencyNetworks.Applies"/>), and
/// shows method names whole (BenchmarkDotNet cuts parameter values at 20 characters: "count(...)adcam [22]").
/// </summary>
public sealed class MethodLatencyConfig : ManualConfig
{
    public MethodLatencyConfig()
    {
        AddFilter(new SimpleFilter(LatencyNetworks.Applies));
        SummaryStyle = SummaryStyle.Default.WithMaxParameterColumnWidth(40);
    }
}

/// <summary>What both method-latency classes share: the network, the threads, batch 1, and "forward" as the baseline.</summary>
[Config(typeof(MethodLatencyConfig))]
public abstract class MethodLatencyBase : ExplanationBenchmark
{
    [ParamsSource(nameof(Networks), Priority = -2)]
    public string Network { get; set; } = LatencyNetworks.Shapes;

    [Params(1, 2, Priority = -1)]
    public int Threads { get; set; }

    public static IEnumerable<string> Networks => LatencyNetworks.Available();

    [GlobalSetup]
    public void Setup()
    {
        var (model, input) = LatencyNetworks.Load(Network);
        Build(Threads, model, input);
    }
}

/// <summary>
/// Issue 20's latency table: every method `nanocam explain --method` accepts (<see cref="MethodList.All"/>, so a new method
/// is timed as soon as it is registered) but the many-pass ones, as `nanocam explain` runs it — default layer, default
/// settings, the top prediction, batch 1 — on the shipped shapes network and on SqueezeNet, at 1 and 2 threads. "forward"
/// (one no-grad forward pass) is the baseline of the Overhead and × forward columns. Each invocation is one whole call, so
/// the iterations are fixed: 2 warm-ups, 10 measured.
/// </summary>
[WarmupCount(2)]
[IterationCount(10)]
[InvocationCount(1)]
public class MethodLatencyBenchmarks : MethodLatencyBase
{
    [ParamsSource(nameof(Methods))]
    public override string Algorithm { get; set; } = OverheadColumn.ForwardMethod;

    public static IEnumerable<string> Methods => [OverheadColumn.ForwardMethod, .. MethodList.All.Except(CamBenchmarkNetwork.MaskedMethods)];
}

/// <summary>
/// The many-pass methods of <see cref="CamBenchmarkNetwork.MaskedMethods"/> (Score-CAM and its variants, Ablation-CAM,
/// Integrated Gradients, SmoothGrad, Occlusion) on the same networks and threads: a call takes up to tens of seconds on
/// SqueezeNet, so no warm-up beyond BenchmarkDotNet's jitting call and 2 measured calls. "forward" again for the columns.
/// </summary>
[WarmupCount(0)]
[IterationCount(2)]
[InvocationCount(1)]
public class MaskedMethodLatencyBenchmarks : MethodLatencyBase
{
    [ParamsSource(nameof(Methods))]
    public override string Algorithm { get; set; } = OverheadColumn.ForwardMethod;

    public static IEnumerable<string> Methods => [OverheadColumn.ForwardMethod, .. MethodList.All.Intersect(CamBenchmarkNetwork.MaskedMethods)];
}
