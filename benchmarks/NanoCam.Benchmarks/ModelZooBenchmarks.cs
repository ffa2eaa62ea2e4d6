using NanoCam.Autodiff;
using NanoCam.Benchmarks.Onnx;
using NanoCam.Imaging;
using NanoCam.Onnx;

namespace NanoCam.Benchmarks;

/// <summary>
/// The forward pass of every ONNX model of shared/data/models/zoo, SqueezeNet 1.1 and, where /work/fullsize (or
/// NANOCAM_FULLSIZE) holds them, the full-size torchvision classifiers: NanoCam (no-grad tape reused from call to call,
/// the SIMD backend) against ONNX Runtime (every graph optimisation, the same thread count) on the model's stored input
/// (random values where it has none). The first outputs must agree within 1e-4 of the largest before either is timed.
/// NanoCamForwardDepthwiseGemm runs depthwise convolutions as one GEMM per channel, as before the direct kernel;
/// NanoCamForwardUnfused runs every node as its plain operator (<c>--no-fuse</c>: no BN folding, epilogue activations,
/// in-place concats or prepared weights).
/// NANOCAM_ZOO_MODELS=a,b keeps the named cases; a model that is absent is skipped with a line saying so.
/// NANOCAM_BENCH_LOAD=1 runs every case with a busy-loop process beside it (<see cref="CompetingLoad"/>).
/// </summary>
[MemoryDiagnoser]
public class ModelZooBenchmarks : IFlopCounted
{
    [ParamsSource(nameof(Models))]
    public string Model { get; set; } = "";

    [Params(1, 2)]
    public int Threads { get; set; }

    private OnnxModel _model = null!, _plainModel = null!;
    private Tensor _input = null!;
    private SimdKernels? _simd, _simdGemm;
    private Tape _tape = null!, _tapeGemm = null!, _tapePlain = null!;
    private OrtSingleNode? _onnxRuntime;

    /// <summary>squeezenet1.1, zoo/NAME for each zoo model, full/NAME for each full-size one (<see cref="ZooModels.Discover"/>).</summary>
    public static IEnumerable<string> Models() => ZooModels.Discover(nameof(ModelZooBenchmarks));

    private static string ModelPath(string model) => ZooModels.PathOf(model);

    private static Tensor InputFor(string path, OnnxModel model) => ZooModels.InputFor(path, model);

    [GlobalSetup(Targets = [nameof(NanoCamForward), nameof(NanoCamForwardDepthwiseGemm), nameof(NanoCamForwardUnfused)])]
    public void SetupNanoCam()
    {
        CompetingLoad.Start();
        string path = ModelPath(Model);
        _model = OnnxModel.Load(path);
        _plainModel = OnnxModel.Load(path);
        _plainModel.Fuse = false;
        _input = InputFor(path, _model);
        _simd = new SimdKernels(Threads);
        _simdGemm = new SimdKernels(Threads) { DepthwiseKernel = false };
        _tape = new Tape(_simd) { GradEnabled = false };
        _tapeGemm = new Tape(_simdGemm) { GradEnabled = false };
        _tapePlain = new Tape(_simd) { GradEnabled = false };
    }

    [GlobalSetup(Target = nameof(OnnxRuntimeForward))]
    public void SetupOnnxRuntime()
    {
        SetupNanoCam();
        var ours = NanoCamForward();
        var expected = ours.ToArray();
        var output = new float[expected.Length];
        _onnxRuntime = new OrtSingleNode(File.ReadAllBytes(ModelPath(Model)), Threads,
            [(_model.Inputs[0].Name, _input.ToArray(), _input.Shape.ToArray().Select(d => (long)d).ToArray())],
            (_model.OutputNames[0], output, ours.Shape.ToArray().Select(d => (long)d).ToArray()));
        _onnxRuntime.Run();
        // Both engines must compute the same outputs (and the GEMM depthwise path the same as the direct one) before either is timed.
        float error = BenchmarkData.RelativeError(expected, output);
        if (error > 1e-4f) throw new InvalidOperationException($"NanoCam's {Model} disagrees with ONNX Runtime's (relative error {error})");
        float gemmError = BenchmarkData.RelativeError(NanoCamForwardDepthwiseGemm().ToArray(), output);
        if (gemmError > 1e-4f) throw new InvalidOperationException($"NanoCam's {Model} with depthwise GEMMs disagrees with ONNX Runtime's (relative error {gemmError})");
        float plainError = BenchmarkData.RelativeError(NanoCamForwardUnfused().ToArray(), output);
        if (plainError > 1e-4f) throw new InvalidOperationException($"NanoCam's {Model} unfused disagrees with ONNX Runtime's (relative error {plainError})");
        Console.WriteLine($"// {Model}: NanoCam against ONNX Runtime, max |Δ| / max |output| = {error:G3} (depthwise as GEMMs: {gemmError:G3}, unfused: {plainError:G3})");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        SimdLifetime.Release(_simd);
        SimdLifetime.Release(_simdGemm);
        _onnxRuntime?.Dispose();
        CompetingLoad.Stop();
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
    public Tensor NanoCamForwardDepthwiseGemm()
    {
        _tapeGemm.Reset();
        return _model.Run(_tapeGemm, _input);
    }

    [Benchmark]
    public Tensor NanoCamForwardUnfused()
    {
        _tapePlain.Reset();
        return _plainModel.Run(_tapePlain, _input);
    }

    /// <summary>Every case counts the convolutions' multiply-adds × 2 (2·K·C/g·R·S·OH·OW·N per Conv) at the benchmark's input shape.</summary>
    public static double FlopsPerInvocation(string method, IReadOnlyDictionary<string, object?> parameters)
    {
        string model = (string)parameters[nameof(Model)]!;
        lock (ConvFlops)
        {
            if (ConvFlops.TryGetValue(model, out double known)) return known;
            string path = ModelPath(model);
            var onnx = OnnxModel.Load(path);
            var layers = onnx.DescribeLayers(InputFor(path, onnx).Shape.ToArray());
            double flops = 0;
            foreach (var (node, layer) in onnx.Nodes.Zip(layers))
            {
                if (node.OpType != "Conv" || !onnx.Parameters.TryGetValue(node.Inputs[1], out var weight) || layer.OutputShapes[0] is not { Length: 4 } output) continue;
                flops += 2.0 * weight.Shape.Size * output[2] * output[3] * output[0];
            }
            return ConvFlops[model] = flops;
        }
    }

    private static readonly Dictionary<string, double> ConvFlops = [];
}
