using NanoCam.Gpu;

namespace NanoCam.Benchmarks;

/// <summary>
/// Where the ILGPU tier runs: NANOCAM_ILGPU_DEVICE (cuda, opencl or ilgpu-cpu; default ilgpu-cpu, ILGPU's CPU simulator,
/// which shows the kernels work, not GPU speed). The Device column of every ILGPU table names it.
/// </summary>
public static class IlgpuBenchmarkDevice
{
    public static string Name => Environment.GetEnvironmentVariable("NANOCAM_ILGPU_DEVICE") is { Length: > 0 } d ? d : "ilgpu-cpu";

    public static IEnumerable<string> Names => [Name];

    public static bool IsSimulator(string device) => device == "ilgpu-cpu";

    /// <summary>A device copy of a host tensor.</summary>
    public static Tensor Upload(IKernels kernels, Tensor host)
    {
        var t = kernels.Allocate(host.Shape);
        t.Buffer.CopyFrom(host.Span);
        return t;
    }
}

/// <summary>
/// The ILGPU GEMM beside <see cref="GemmBenchmarks"/> (SIMD, 1024³) and <see cref="GemmNaiveBenchmarks"/> (naive, 256³):
/// 1024³ on a GPU, 256³ on the CPU simulator (where 1024³ would take minutes a call); compare through GFLOP/s.
/// Each call waits for the kernel (Synchronize), so the time is the kernel's, not its launch's.
/// </summary>
[MemoryDiagnoser]
[WarmupCount(2)]
[IterationCount(10)]
public class IlgpuGemmBenchmarks : IFlopCounted
{
    [ParamsSource(typeof(IlgpuBenchmarkDevice), nameof(IlgpuBenchmarkDevice.Names))]
    public string Device { get; set; } = "ilgpu-cpu";

    private IlgpuKernels _kernels = null!;
    private Tensor _a = null!, _b = null!, _c = null!;
    private GemmShape _shape;

    private static GemmShape ShapeOn(string device) => IlgpuBenchmarkDevice.IsSimulator(device) ? GemmNaiveBenchmarks.Shape : GemmBenchmarks.Shape;

    [GlobalSetup]
    public void Setup()
    {
        _kernels = IlgpuKernels.Create(Device);
        _shape = ShapeOn(Device);
        var (a, b, c) = GemmBenchmarks.GemmOperands(_shape);
        (_a, _b, _c) = (IlgpuBenchmarkDevice.Upload(_kernels, a), IlgpuBenchmarkDevice.Upload(_kernels, b), IlgpuBenchmarkDevice.Upload(_kernels, c));
    }

    [GlobalCleanup]
    public void Cleanup() => _kernels.Dispose();

    [Benchmark]
    public void Ilgpu()
    {
        _kernels.Gemm(_c, _a, _b, _shape);
        _kernels.Synchronize();
    }

    public static double FlopsPerInvocation(string method, IReadOnlyDictionary<string, object?> parameters) =>
        ShapeOn((string)parameters[nameof(Device)]!).Flops;
}

/// <summary>
/// The ILGPU convolution at <see cref="ConvBenchmarks"/>' size (3×3, 64→64, 56×56, batch 1): forward and both backward
/// kernels, beside the SIMD, naive and ONNX Runtime rows of the same categories.
/// </summary>
[MemoryDiagnoser]
[WarmupCount(1)]
[IterationCount(5)]
public class IlgpuConvBenchmarks : IFlopCounted
{
    private static Conv2dGeometry Geometry => ConvBenchmarks.Geometry;

    [ParamsSource(typeof(IlgpuBenchmarkDevice), nameof(IlgpuBenchmarkDevice.Names))]
    public string Device { get; set; } = "ilgpu-cpu";

    private IlgpuKernels _kernels = null!;
    private Tensor _input = null!, _weight = null!, _bias = null!, _output = null!, _dOutput = null!, _dInput = null!, _dWeight = null!;

    [GlobalSetup]
    public void Setup()
    {
        _kernels = IlgpuKernels.Create(Device);
        var host = new ConvOperands(Geometry);
        Tensor Up(Tensor t) => IlgpuBenchmarkDevice.Upload(_kernels, t);
        (_input, _weight, _bias, _output) = (Up(host.Input), Up(host.Weight), Up(host.Bias), Up(host.Output));
        (_dOutput, _dInput, _dWeight) = (Up(host.DOutput), Up(host.DInput), Up(host.DWeight));
    }

    [GlobalCleanup]
    public void Cleanup() => _kernels.Dispose();

    [Benchmark]
    public void IlgpuForward()
    {
        _kernels.Conv2dForward(_output, _input, _weight, _bias, Geometry);
        _kernels.Synchronize();
    }

    [Benchmark]
    public void IlgpuBackwardInput()
    {
        _kernels.Conv2dBackwardInput(_dInput, _dOutput, _weight, Geometry);
        _kernels.Synchronize();
    }

    [Benchmark]
    public void IlgpuBackwardWeight()
    {
        _kernels.Conv2dBackwardWeight(_dWeight, _dOutput, _input, Geometry);
        _kernels.Synchronize();
    }

    public static double FlopsPerInvocation(string method, IReadOnlyDictionary<string, object?> parameters) => Geometry.Flops;
}

/// <summary>The GAP-CNN training step of <see cref="TrainingStepBenchmarks"/> (batch 64, 28×28) on the ILGPU kernels; the batch is copied in each step, as from a loader.</summary>
[MemoryDiagnoser]
[WarmupCount(1)]
[IterationCount(5)]
public class IlgpuTrainingStepBenchmarks : IFlopCounted
{
    [ParamsSource(typeof(IlgpuBenchmarkDevice), nameof(IlgpuBenchmarkDevice.Names))]
    public string Device { get; set; } = "ilgpu-cpu";

    private IlgpuKernels _kernels = null!;
    private GapCnnStep _step = null!;

    [GlobalSetup]
    public void Setup()
    {
        _kernels = IlgpuKernels.Create(Device);
        _step = new GapCnnStep(_kernels);
    }

    [GlobalCleanup]
    public void Cleanup() => _kernels.Dispose();

    [Benchmark]
    public float Ilgpu() => _step.Run();

    public static double FlopsPerInvocation(string method, IReadOnlyDictionary<string, object?> parameters) => TrainingStepBenchmarks.StepFlops();
}

/// <summary>
/// The GPU targets of the ILGPU issue, timed beside cuBLAS and cuDNN by benchmarks/gpu/torch_peers.py: GEMM 4096³ FP32 and
/// the 3×3 convolution forward at batch 64, 64→64, 56×56. GPU only: on the CPU simulator one call would take hours.
/// </summary>
[MemoryDiagnoser]
[WarmupCount(2)]
[IterationCount(10)]
public class IlgpuGpuTargetBenchmarks : IFlopCounted
{
    public static readonly GemmShape Gemm4096 = new(4096, 4096, 4096);
    public static readonly Conv2dGeometry ConvBatch64 = Conv2dGeometry.For(new Shape(64, 64, 56, 56), new Shape(64, 64, 3, 3), stride: 1, padding: 1);

    [ParamsSource(typeof(IlgpuBenchmarkDevice), nameof(IlgpuBenchmarkDevice.Names))]
    public string Device { get; set; } = "cuda";

    private IlgpuKernels _kernels = null!;
    private Tensor _a = null!, _b = null!, _c = null!, _input = null!, _weight = null!, _bias = null!, _output = null!;

    [GlobalSetup]
    public void Setup()
    {
        if (IlgpuBenchmarkDevice.IsSimulator(Device))
            throw new InvalidOperationException("IlgpuGpuTargetBenchmarks need a GPU: set NANOCAM_ILGPU_DEVICE=cuda or opencl");
        _kernels = IlgpuKernels.Create(Device);
        Tensor Up(Tensor t) => IlgpuBenchmarkDevice.Upload(_kernels, t);
        var (a, b, c) = GemmBenchmarks.GemmOperands(Gemm4096);
        (_a, _b, _c) = (Up(a), Up(b), Up(c));
        var g = ConvBatch64;
        (_input, _weight, _bias, _output) = (Up(BenchmarkData.UniformTensor(1, g.Batch, g.InputChannels, g.InputHeight, g.InputWidth)),
            Up(BenchmarkData.UniformTensor(2, g.OutputChannels, g.InputChannelsPerGroup, g.KernelHeight, g.KernelWidth)),
            Up(BenchmarkData.UniformTensor(3, g.OutputChannels)), _kernels.Allocate(g.OutputShape));
    }

    [GlobalCleanup]
    public void Cleanup() => _kernels?.Dispose();

    [Benchmark]
    public void Gemm4096Cubed()
    {
        _kernels.Gemm(_c, _a, _b, Gemm4096);
        _kernels.Synchronize();
    }

    [Benchmark]
    public void Conv3x3Batch64()
    {
        _kernels.Conv2dForward(_output, _input, _weight, _bias, ConvBatch64);
        _kernels.Synchronize();
    }

    public static double FlopsPerInvocation(string method, IReadOnlyDictionary<string, object?> parameters) =>
        method == nameof(Gemm4096Cubed) ? Gemm4096.Flops : ConvBatch64.Flops;
}
