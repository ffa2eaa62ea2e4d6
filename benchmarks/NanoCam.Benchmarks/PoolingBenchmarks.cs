using BenchmarkDotNet.Configs;
using NanoCam.Benchmarks.Onnx;
using NanoCam.Cpu.Naive;

namespace NanoCam.Benchmarks;

/// <summary>
/// 2×2 stride-2 pooling over [16, 64, 56, 56] (12.8 MB in, 3.2 MB out): max forward (with argmax), max backward, average forward.
/// Pooling does no multiply-adds; the GFLOP/s column counts one operation per window element read in forward
/// (a comparison or an add) and one add per output element in backward — memory bandwidth is the real limit.
/// </summary>
[MemoryDiagnoser]
public class PoolingBenchmarks : IFlopCounted
{
    public static readonly Pool2dGeometry Geometry = Pool2dGeometry.For(new Shape(16, 64, 56, 56), kernel: 2, stride: 2);

    [Params(1, 2)]
    public int Threads { get; set; }

    private PoolOperands _x = null!;
    private SimdKernels _simd = null!;

    [GlobalSetup]
    public void Setup()
    {
        _simd = new SimdKernels(Threads);
        _x = new PoolOperands(Geometry, _simd);
    }

    [GlobalCleanup]
    public void Cleanup() => SimdLifetime.Release(_simd);

    [Benchmark]
    public void SimdMaxForward() => _simd.MaxPool2dForward(_x.Output, _x.Argmax, _x.Input, Geometry);

    [Benchmark]
    public void SimdMaxBackward() => _simd.MaxPool2dBackward(_x.DInput, _x.DOutput, _x.Argmax, Geometry);

    [Benchmark]
    public void SimdAvgForward() => _simd.AvgPool2dForward(_x.Output, _x.Input, Geometry, countIncludePad: false);

    public static double FlopsPerInvocation(string method, IReadOnlyDictionary<string, object?> parameters) => PoolOperations(method, Geometry);

    /// <summary>Forward: output cells × window cells; backward: one add per output cell.</summary>
    internal static double PoolOperations(string method, Pool2dGeometry g)
    {
        double outputs = (double)g.Batch * g.Channels * g.OutputHeight * g.OutputWidth;
        return method.EndsWith("Backward", StringComparison.Ordinal) ? outputs : outputs * g.KernelHeight * g.KernelWidth;
    }
}

/// <summary>
/// SqueezeNet v1.1's pool1: 3×3 stride-2 ceil-mode max pooling over [1, 64, 111, 111] (overlapping windows, the general
/// path): SIMD and naive forward against ONNX Runtime's MaxPool at the same thread count. Ratio is against ONNX Runtime.
/// </summary>
[MemoryDiagnoser]
public class MaxPool3x3Benchmarks : IFlopCounted
{
    public static readonly Pool2dGeometry Geometry = Pool2dGeometry.For(new Shape(1, 64, 111, 111), kernel: 3, stride: 2, ceilMode: true);

    [Params(1, 2)]
    public int Threads { get; set; }

    private PoolOperands _x = null!;
    private SimdKernels? _simd;
    private OrtSingleNode? _onnxRuntime;

    [GlobalSetup(Targets = [nameof(SimdMaxForward), nameof(NaiveMaxForward)])]
    public void Setup()
    {
        _x = new PoolOperands(Geometry, NaiveKernels.Instance);
        _simd = new SimdKernels(Threads);
    }

    [GlobalSetup(Target = nameof(OnnxRuntimeMaxForward))]
    public void SetupOnnxRuntime()
    {
        var g = Geometry;
        _x = new PoolOperands(g, NaiveKernels.Instance);
        var expected = _x.Output.ToArray();
        Array.Clear(_x.Output.Data);
        _onnxRuntime = new OrtSingleNode(SingleNodeModel.MaxPool(g), Threads,
            [("X", _x.Input.Data, [g.Batch, g.Channels, g.InputHeight, g.InputWidth])],
            ("Y", _x.Output.Data, [g.Batch, g.Channels, g.OutputHeight, g.OutputWidth]));
        _onnxRuntime.Run();
        // Prove the hand-built ONNX model pools the same windows before it is timed.
        float error = BenchmarkData.RelativeError(_x.Output.Span, expected);
        if (error > 0f) throw new InvalidOperationException($"ONNX Runtime MaxPool disagrees with NanoCam's (relative error {error})");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        SimdLifetime.Release(_simd);
        _onnxRuntime?.Dispose();
    }

    [Benchmark(Baseline = true)]
    public void OnnxRuntimeMaxForward() => _onnxRuntime!.Run();

    [Benchmark]
    public void SimdMaxForward() => _simd!.MaxPool2dForward(_x.Output, _x.Argmax, _x.Input, Geometry);

    [Benchmark]
    public void NaiveMaxForward() => NaiveKernels.Instance.MaxPool2dForward(_x.Output, _x.Argmax, _x.Input, Geometry);

    public static double FlopsPerInvocation(string method, IReadOnlyDictionary<string, object?> parameters) =>
        PoolingBenchmarks.PoolOperations(method, Geometry);
}

/// <summary>The naive reference pooling kernels on the same tensors as <see cref="PoolingBenchmarks"/>.</summary>
[MemoryDiagnoser]
public class PoolingNaiveBenchmarks : IFlopCounted
{
    private static Pool2dGeometry Geometry => PoolingBenchmarks.Geometry;

    private PoolOperands _x = null!;

    [GlobalSetup]
    public void Setup() => _x = new PoolOperands(Geometry, NaiveKernels.Instance);

    [Benchmark]
    public void NaiveMaxForward() => NaiveKernels.Instance.MaxPool2dForward(_x.Output, _x.Argmax, _x.Input, Geometry);

    [Benchmark]
    public void NaiveMaxBackward() => NaiveKernels.Instance.MaxPool2dBackward(_x.DInput, _x.DOutput, _x.Argmax, Geometry);

    [Benchmark]
    public void NaiveAvgForward() => NaiveKernels.Instance.AvgPool2dForward(_x.Output, _x.Input, Geometry, countIncludePad: false);

    public static double FlopsPerInvocation(string method, IReadOnlyDictionary<string, object?> parameters) =>
        PoolingBenchmarks.PoolOperations(method, Geometry);
}

/// <summary>Pooling inputs and outputs; the argmax is filled by one forward pass so the backward has valid indices.</summary>
internal sealed class PoolOperands
{
    public PoolOperands(Pool2dGeometry g, IKernels kernels)
    {
        Input = BenchmarkData.UniformTensor(1, g.Batch, g.Channels, g.InputHeight, g.InputWidth);
        Output = Tensor.Zeros(g.OutputShape);
        Argmax = Tensor.Zeros(g.OutputShape);
        DOutput = BenchmarkData.UniformTensor(2, g.Batch, g.Channels, g.OutputHeight, g.OutputWidth);
        DInput = Tensor.Zeros(g.InputShape);
        kernels.MaxPool2dForward(Output, Argmax, Input, g);
    }

    public Tensor Input { get; }
    public Tensor Output { get; }
    public Tensor Argmax { get; }
    public Tensor DOutput { get; }
    public Tensor DInput { get; }
}
