using NanoCam.Explain;
using NanoCam.Nn.Models;

namespace NanoCam.Benchmarks.Explain;

/// <summary>
/// What every explanation benchmark shares: one SIMD backend, an explainer over a network, a fixed input, and the one
/// timed call — <see cref="Algorithm"/> (a method name, or "forward" for the baseline) on that input.
/// </summary>
[MemoryDiagnoser]
public abstract class ExplanationBenchmark
{
    /// <summary>The method timed ("forward": one no-grad forward pass, the baseline of the Overhead columns).</summary>
    public abstract string Algorithm { get; set; }

    private SimdKernels _kernels = null!;
    private CamExplainer _explainer = null!;
    private Tensor _input = null!;

    /// <summary>Builds the backend, the explainer and the input; called by each subclass's [GlobalSetup].</summary>
    protected void Build(int threads, GapCnn network, Tensor input) => Build(threads, new ModuleExplainable(network), input);

    /// <summary>The same for any explainable model (a NanoCam checkpoint with its class names, an imported ONNX graph).</summary>
    protected void Build(int threads, IExplainable model, Tensor input)
    {
        _kernels = new SimdKernels(threads);
        _explainer = new CamExplainer(model, _kernels);
        _input = input;
    }

    [GlobalCleanup]
    public void Cleanup() => SimdLifetime.Release(_kernels);

    [Benchmark]
    public float Run() => CamBenchmarkNetwork.Run(_explainer, Algorithm, _input);
}

/// <summary>
/// torch-cam's latency table: every explanation method but the masked-input ones on a 224×224 network
/// (<see cref="CamBenchmarkNetwork.Vgg224"/>, target layer "features", 128×14×14), batch 1 and 16, one thread.
/// "forward" is one no-grad forward pass, the baseline of the Overhead and × forward columns. For mean ± std over
/// 100 runs, see benchmarks/README.md.
/// </summary>
public class CamLatencyBenchmarks : ExplanationBenchmark
{
    public const int ImageSize = 224;

    [ParamsSource(nameof(Methods))]
    public override string Algorithm { get; set; } = OverheadColumn.ForwardMethod;

    public static IEnumerable<string> Methods => CamBenchmarkNetwork.FastMethods;

    [Params(1, 16)]
    public int Batch { get; set; }

    [Params(1)]
    public int Threads { get; set; }


    [GlobalSetup]
    public void Setup() => Build(Threads, CamBenchmarkNetwork.Vgg224(), BenchmarkData.UniformTensor(3, Batch, 3, ImageSize, ImageSize));
}

/// <summary>
/// The masked-input methods on the same network at batch 1 and 16: Score-CAM (128 masked passes per image), SS-CAM and
/// IS-CAM (10 × 128), Ablation-CAM (128 ablated passes), every one batched 32 images to a forward pass. A batch-1 run
/// takes seconds (SS-CAM and IS-CAM about 15 s on the 2-core machine) and a batch-16 run 16 times as many passes, so the
/// iterations are few and fixed; select one batch with --filter or BenchmarkDotNet's parameter filters.
/// </summary>
[WarmupCount(1)]
[IterationCount(3)]
public class MaskedCamLatencyBenchmarks : ExplanationBenchmark
{
    [ParamsSource(nameof(Methods))]
    public override string Algorithm { get; set; } = OverheadColumn.ForwardMethod;

    public static IEnumerable<string> Methods => [OverheadColumn.ForwardMethod, .. CamBenchmarkNetwork.MaskedMethods];

    [Params(1, 16)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup() => Build(1, CamBenchmarkNetwork.Vgg224(), BenchmarkData.UniformTensor(3, Batch, 3, CamLatencyBenchmarks.ImageSize, CamLatencyBenchmarks.ImageSize));
}

/// <summary>
/// The third target: a whole batch-1 Grad-CAM (forward with the tape recording, backward from y^c to the
/// layer, the map) on the shipped MNIST GAP-CNN (weights/mnist-gapcnn.safetensors, 1×28×28, layer "features"
/// 128×7×7) at one thread, under 1 ms; CAM and the forward pass beside it.
/// </summary>
public class GapCnnGradCamBenchmarks : ExplanationBenchmark
{
    [Params("forward", "cam", "gradcam")]
    public override string Algorithm { get; set; } = OverheadColumn.ForwardMethod;


    [GlobalSetup]
    public void Setup() => Build(1, CamBenchmarkNetwork.ShippedMnistGapCnn(), BenchmarkData.UniformTensor(4, 1, 1, 28, 28));
}
