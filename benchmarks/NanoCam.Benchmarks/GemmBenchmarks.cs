using NanoCam.Benchmarks.Onnx;
using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd.Gemm;

namespace NanoCam.Benchmarks;

/// <summary>
/// C = A·B, 1024×1024×1024 (2·1024³ FLOPs): NanoCam's SIMD GEMM against ONNX Runtime's MatMul at the same thread count.
/// Ratio is SIMD time / ONNX Runtime time per thread count (below 1 means NanoCam is faster). <c>Simd</c> runs the
/// micro-kernel the CPU picks (AVX-512 8×48 where Vector512 is accelerated); <c>SimdAvx2</c> forces the AVX2 6×16 one.
/// NANOCAM_BENCH_LOAD=1 runs every case with a busy-loop process beside it (<see cref="CompetingLoad"/>).
/// </summary>
[MemoryDiagnoser]
public class GemmBenchmarks : IFlopCounted
{
    public static readonly GemmShape Shape = new(1024, 1024, 1024);

    [Params(1, 2)]
    public int Threads { get; set; }

    private Tensor _a = null!, _b = null!, _c = null!;
    private SimdKernels? _simd;
    private SimdKernels? _simdAvx2;
    private OrtSingleNode? _onnxRuntime;

    [GlobalSetup(Target = nameof(Simd))]
    public void SetupSimd()
    {
        CompetingLoad.Start();
        (_a, _b, _c) = GemmOperands(Shape);
        _simd = new SimdKernels(Threads);
    }

    [GlobalSetup(Target = nameof(SimdAvx2))]
    public void SetupSimdAvx2()
    {
        CompetingLoad.Start();
        (_a, _b, _c) = GemmOperands(Shape);
        _simdAvx2 = new SimdKernels(Threads, MicroKernelChoice.Avx2);
    }

    [GlobalSetup(Target = nameof(OnnxRuntime))]
    public void SetupOnnxRuntime()
    {
        CompetingLoad.Start();
        (_a, _b, _c) = GemmOperands(Shape);
        _onnxRuntime = new OrtSingleNode(SingleNodeModel.MatMul(Shape.M, Shape.N, Shape.K), Threads,
            [("A", _a.Data, [Shape.M, Shape.K]), ("B", _b.Data, [Shape.K, Shape.N])],
            ("Y", _c.Data, [Shape.M, Shape.N]));
        _onnxRuntime.Run();
        CheckAgainstSimd(_c, _a, _b, Shape);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        SimdLifetime.Release(_simd);
        SimdLifetime.Release(_simdAvx2);
        _onnxRuntime?.Dispose();
        CompetingLoad.Stop();
    }

    [Benchmark(Baseline = true)]
    public void OnnxRuntime() => _onnxRuntime!.Run();

    [Benchmark]
    public void Simd() => _simd!.Gemm(_c, _a, _b, Shape);

    [Benchmark]
    public void SimdAvx2() => _simdAvx2!.Gemm(_c, _a, _b, Shape);

    public static double FlopsPerInvocation(string method, IReadOnlyDictionary<string, object?> parameters) => Shape.Flops;

    internal static (Tensor A, Tensor B, Tensor C) GemmOperands(GemmShape s) =>
        (BenchmarkData.UniformTensor(1, s.M, s.K), BenchmarkData.UniformTensor(2, s.K, s.N), Tensor.Zeros(s.M, s.N));

    /// <summary>Proves the hand-built ONNX model computes the same product before it is timed.</summary>
    private static void CheckAgainstSimd(Tensor peerResult, Tensor a, Tensor b, GemmShape s)
    {
        var expected = Tensor.Zeros(s.M, s.N);
        var simd = new SimdKernels(1);
        simd.Gemm(expected, a, b, s);
        SimdLifetime.Release(simd);
        float error = BenchmarkData.RelativeError(peerResult.Span, expected.Span);
        if (error > 1e-4f) throw new InvalidOperationException($"ONNX Runtime MatMul disagrees with NanoCam's GEMM (relative error {error})");
    }
}

/// <summary>
/// The naive reference GEMM (triple loop, double accumulator), at 256×256×256: at 1024³ one call would take
/// tens of seconds. Compare it with <see cref="GemmBenchmarks"/> through the GFLOP/s column, not the mean.
/// </summary>
[MemoryDiagnoser]
[WarmupCount(2)]
[IterationCount(10)]
public class GemmNaiveBenchmarks : IFlopCounted
{
    public static readonly GemmShape Shape = new(256, 256, 256);

    private Tensor _a = null!, _b = null!, _c = null!;

    [GlobalSetup]
    public void Setup() => (_a, _b, _c) = GemmBenchmarks.GemmOperands(Shape);

    [Benchmark]
    public void Naive() => NaiveKernels.Instance.Gemm(_c, _a, _b, Shape);

    public static double FlopsPerInvocation(string method, IReadOnlyDictionary<string, object?> parameters) => Shape.Flops;
}
