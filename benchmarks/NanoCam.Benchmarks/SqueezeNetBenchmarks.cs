using BenchmarkDotNet.Configs;
using NanoCam.Autodiff;
using NanoCam.Benchmarks.Onnx;
using NanoCam.Cli.Shared;
using NanoCam.Explain;
using NanoCam.Explain.Methods;
using NanoCam.Imaging;
using NanoCam.Onnx;

namespace NanoCam.Benchmarks;

/// <summary>
/// The imported SqueezeNet v1.1 (SqueezeNet_fp32_from_fp16.onnx) on both.png (BGR, raw 0–255): NanoCam's forward
/// (no-grad tape, reused from call to call) against ONNX Runtime's forward of the same file on the same input, and
/// NanoCam's Grad-CAM at fire9/concat_1 for bull mastiff (243) as `nanocam explain` runs it (forward with gradients,
/// backward to the layer, channel weights, map, upsampling, normalization). Ratio is against ONNX Runtime's forward.
/// </summary>
[MemoryDiagnoser]
public class SqueezeNetBenchmarks : IFlopCounted
{
    public const string Layer = "fire9/concat_1";
    public const int TargetClass = 243;

    [Params(1, 2)]
    public int Threads { get; set; }

    private OnnxModel _model = null!;
    private Tensor _input = null!;
    private SimdKernels? _simd;
    private Tape _tape = null!;
    private CamExplainer _explainer = null!;
    private CamMethod _gradCam = null!;
    private OrtSingleNode? _onnxRuntime;
    private readonly float[] _ortOutput = new float[1000];

    private static string ModelPath => SharedData.Path("models", "SqueezeNet_fp32_from_fp16.onnx");

    /// <summary>both.png as SqueezeNet wants it: 224×224 (no resize needed), BGR, ×255, no mean/std.</summary>
    private static Tensor Input() =>
        new Preprocessing(224, 224, Channels: 3, Bgr: true, Scale: 255f, Mean: [0f, 0f, 0f], Std: [1f, 1f, 1f]).Apply(ImageCodec.Load(SharedData.Path("images", "both.png"))).Input;

    [GlobalSetup(Targets = [nameof(NanoCamForward), nameof(NanoCamGradCam)])]
    public void SetupNanoCam()
    {
        _model = OnnxModel.Load(ModelPath);
        _input = Input();
        _simd = new SimdKernels(Threads);
        _tape = new Tape(_simd) { GradEnabled = false };
        _explainer = new CamExplainer(new OnnxExplainable(_model, null), _simd);
        _gradCam = CamMethods.Create("gradcam");
    }

    [GlobalSetup(Target = nameof(OnnxRuntimeForward))]
    public void SetupOnnxRuntime()
    {
        SetupNanoCam();
        _onnxRuntime = new OrtSingleNode(File.ReadAllBytes(ModelPath), Threads,
            [("data_0", _input.ToArray(), [1, 3, 224, 224])], ("softmaxout_1", _ortOutput, [1, 1000, 1, 1]));
        _onnxRuntime.Run();
        // Both engines must compute the same probabilities before either is timed.
        var ours = NanoCamForward().ToArray();
        float error = BenchmarkData.RelativeError(ours, _ortOutput);
        if (error > 1e-4f) throw new InvalidOperationException($"NanoCam's SqueezeNet disagrees with ONNX Runtime's (relative error {error})");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        SimdLifetime.Release(_simd);
        _onnxRuntime?.Dispose();
    }

    [Benchmark(Baseline = true)]
    public void OnnxRuntimeForward() => _onnxRuntime!.Run();

    [Benchmark]
    public Tensor NanoCamForward()
    {
        _tape.Reset();
        return _model.Run(_tape, _input);
    }

    [Benchmark]
    public CamResult NanoCamGradCam() => _explainer.Explain(_gradCam, _input, CamTarget.Class(TargetClass), Layer);

    /// <summary>Forward cases count the convolutions' multiply-adds (2·K·C/g·R·S·OH·OW per Conv); Grad-CAM has no single count.</summary>
    public static double FlopsPerInvocation(string method, IReadOnlyDictionary<string, object?> parameters) =>
        method == nameof(NanoCamGradCam) ? double.NaN : ForwardFlops.Value;

    private static readonly Lazy<double> ForwardFlops = new(() =>
    {
        var model = OnnxModel.Load(ModelPath);
        var layers = model.DescribeLayers();
        double flops = 0;
        foreach (var (node, layer) in model.Nodes.Zip(layers))
        {
            if (node.OpType != "Conv") continue;
            var weight = model.Parameters[node.Inputs[1]].Shape;
            var output = layer.OutputShapes[0]!;
            flops += 2.0 * weight.Size * output[2] * output[3] * output[0];
        }
        return flops;
    });
}
