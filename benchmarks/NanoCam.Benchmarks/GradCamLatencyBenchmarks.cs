using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;
using NanoCam.Explain;
using NanoCam.Explain.Methods;
using NanoCam.Imaging;
using NanoCam.Onnx;

namespace NanoCam.Benchmarks;

/// <summary>
/// Grad-CAM on every imported model of <see cref="ZooModels"/> (the zoo models that name a target layer, SqueezeNet 1.1,
/// the full-size exports where present) at batch 1 and 16, Threads 1 and 2: the call <c>nanocam explain --method gradcam</c>
/// makes (<see cref="CamExplainer.Explain(CamMethod, Tensor, CamTarget, string?, ExplainOptions?)"/>: one forward pass,
/// the backward pass from the class score down to the target layer, α, the map, upsampling, normalization).
/// The peer is benchmarks/pytorch/gradcam_latency.py (PyTorch with hooks on the same module); benchmarks/gradcam-latency.sh
/// runs both and prints the speed-ups. Setup holds batch 1's map against pytorch-grad-cam's (NAME.gradcam.npy, Pearson
/// r ≥ 0.99) where the zoo gives one, and every image of a batch (the same image repeated) against the first.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ShortRun))]
public class GradCamLatencyBenchmarks
{
    [ParamsSource(nameof(Models))]
    public string Model { get; set; } = "";

    [Params(1, 16)]
    public int Batch { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    private SimdKernels _kernels = null!;
    private CamExplainer _explainer = null!;
    private CamMethod _method = null!;
    private CamTarget _target = null!;
    private string _layer = "";
    private Tensor _input = null!;

    /// <summary>The models of <see cref="ZooModels.Discover"/> that name a Grad-CAM target; the others are skipped with a line saying why.</summary>
    public static IEnumerable<string> Models()
    {
        foreach (var model in ZooModels.Discover(nameof(GradCamLatencyBenchmarks)))
        {
            if (ZooModels.GradCamTarget(model, out string reason) is null) Console.WriteLine($"{nameof(GradCamLatencyBenchmarks)}: {model} skipped: {reason}");
            else yield return model;
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        string path = ZooModels.PathOf(Model);
        var model = OnnxModel.Load(path);
        (_layer, int targetClass) = ZooModels.GradCamTarget(Model, out _)!.Value;
        _kernels = new SimdKernels(Threads);
        _explainer = new CamExplainer(new OnnxExplainable(model, null), _kernels);
        _method = CamMethods.Create("gradcam");
        _target = CamTarget.Class(targetClass);
        _input = ZooModels.Repeat(ZooModels.InputFor(path, model), Batch);
        Check(Run(), Path.ChangeExtension(path, ".gradcam.npy"));
    }

    /// <summary>Refuses to time a map that is not pytorch-grad-cam's, or a batch whose copies of one image disagree.</summary>
    private void Check(CamResult result, string reference)
    {
        var first = result.NormalizedOf(0);
        for (int n = 1; n < result.Batch; n++)
        {
            float error = BenchmarkData.RelativeError(result.NormalizedOf(n), first);
            if (error > 1e-4f) throw new InvalidOperationException($"{Model}: image {n} of a batch of copies has another map (relative error {error})");
        }
        if (!File.Exists(reference))
        {
            Console.WriteLine($"// {Model}: no {Path.GetFileName(reference)} to hold the map against");
            return;
        }
        var expected = Npy.Read(reference).Data;
        double r = Pearson(first, expected);
        if (!(r >= 0.99)) throw new InvalidOperationException($"{Model}: Grad-CAM against pytorch-grad-cam's map: Pearson r = {r:F4} < 0.99");
        Console.WriteLine($"// {Model}: Grad-CAM against pytorch-grad-cam's map, Pearson r = {r:F5}");
    }

    private static double Pearson(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new InvalidOperationException($"a map of {a.Length} values, pytorch-grad-cam's has {b.Length}");
        double ma = 0, mb = 0;
        for (int i = 0; i < a.Length; i++) { ma += a[i]; mb += b[i]; }
        ma /= a.Length;
        mb /= b.Length;
        double sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double da = a[i] - ma, db = b[i] - mb;
            sab += da * db;
            saa += da * da;
            sbb += db * db;
        }
        return sab / Math.Sqrt(saa * sbb);
    }

    [GlobalCleanup]
    public void Cleanup() => SimdLifetime.Release(_kernels);

    [Benchmark]
    public CamResult GradCam() => Run();

    private CamResult Run() => _explainer.Explain(_method, _input, _target, _layer);

    /// <summary>
    /// In process (the out-of-process build times out on a loaded machine), 2 warm-up and 5 measured iterations of about
    /// 250 ms, a Median column and whole model names (the CSV benchmarks/gradcam-latency.sh joins on): the whole class,
    /// 9 models × 4 cases, in about 2–3 minutes on the 2-core machine (130 s measured under load 15–18).
    /// </summary>
    private sealed class ShortRun : ManualConfig
    {
        public ShortRun() =>
            AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(2).WithIterationCount(5)
                .WithIterationTime(TimeInterval.FromMilliseconds(250)).WithId("GradCamShort"))
            .AddColumn(StatisticColumn.Median)
            .WithSummaryStyle(SummaryStyle.Default.WithMaxParameterColumnWidth(64));
    }
}
