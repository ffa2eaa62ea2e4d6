using BenchmarkDotNet.Configs;
using NanoCam.Benchmarks.Onnx;
using NanoCam.Cpu.Naive;

namespace NanoCam.Benchmarks;

/// <summary>
/// Two 3×3 convolutions, forward against ONNX Runtime's Conv at the same thread count, and both backward kernels:
/// `resnet` (the layer): 64→64 channels over 56×56, batch 1, stride 1, padding 1 (a ResNet-18 stage-1 layer);
/// `dilated`: the demo network's last 3×3, 32→64 over 32×32, batch 16, dilation 2, padding 2 (run as Winograd on the
/// map's polyphase components). Each of the three passes does the forward's 2·N·K·C·R·S·OH·OW FLOPs. Ratio (Forward
/// only) is SIMD / ONNX Runtime. The backward kernels accumulate into their gradient buffer.
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class ConvBenchmarks : IFlopCounted
{
    public static readonly Conv2dGeometry Geometry = Conv2dGeometry.For(new Shape(1, 64, 56, 56), new Shape(64, 64, 3, 3), stride: 1, padding: 1);

    /// <summary>The demo network's dilated layer (weights/README.md).</summary>
    public static readonly Conv2dGeometry Dilated = Conv2dGeometry.For(new Shape(16, 32, 32, 32), new Shape(64, 32, 3, 3), padding: 2, dilation: 2);

    [Params("resnet", "dilated")]
    public string Layer { get; set; } = "resnet";

    [Params(1, 2)]
    public int Threads { get; set; }

    private Conv2dGeometry G => LayerGeometry(Layer);

    private static Conv2dGeometry LayerGeometry(string layer) => layer == "dilated" ? Dilated : Geometry;

    private ConvOperands _x = null!;
    private SimdKernels? _simd;
    private OrtSingleNode? _onnxRuntime;

    [GlobalSetup(Targets = [nameof(SimdForward), nameof(SimdBackwardInput), nameof(SimdBackwardWeight)])]
    public void SetupSimd()
    {
        _x = new ConvOperands(G);
        _simd = new SimdKernels(Threads);
    }

    [GlobalSetup(Target = nameof(OnnxRuntimeForward))]
    public void SetupOnnxRuntime()
    {
        var g = G;
        _x = new ConvOperands(g);
        _onnxRuntime = new OrtSingleNode(SingleNodeModel.Conv(g, _x.Weight.Data, _x.Bias.Data), Threads,
            [("X", _x.Input.Data, [g.Batch, g.InputChannels, g.InputHeight, g.InputWidth])],
            ("Y", _x.Output.Data, [g.Batch, g.OutputChannels, g.OutputHeight, g.OutputWidth]));
        _onnxRuntime.Run();

        // Prove the hand-built ONNX model computes the same convolution before it is timed.
        var expected = Tensor.Zeros(g.OutputShape);
        var simd = new SimdKernels(1);
        simd.Conv2dForward(expected, _x.Input, _x.Weight, _x.Bias, g);
        SimdLifetime.Release(simd);
        float error = BenchmarkData.RelativeError(_x.Output.Span, expected.Span);
        if (error > 1e-4f) throw new InvalidOperationException($"ONNX Runtime Conv disagrees with NanoCam's convolution (relative error {error})");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        SimdLifetime.Release(_simd);
        _onnxRuntime?.Dispose();
    }

    [Benchmark(Baseline = true), BenchmarkCategory("Forward")]
    public void OnnxRuntimeForward() => _onnxRuntime!.Run();

    [Benchmark, BenchmarkCategory("Forward")]
    public void SimdForward() => _simd!.Conv2dForward(_x.Output, _x.Input, _x.Weight, _x.Bias, G);

    [Benchmark, BenchmarkCategory("BackwardInput")]
    public void SimdBackwardInput() => _simd!.Conv2dBackwardInput(_x.DInput, _x.DOutput, _x.Weight, G);

    [Benchmark, BenchmarkCategory("BackwardWeight")]
    public void SimdBackwardWeight() => _simd!.Conv2dBackwardWeight(_x.DWeight, _x.DOutput, _x.Input, G);

    /// <summary>Forward, backward-input and backward-weight each perform the same multiply-adds.</summary>
    public static double FlopsPerInvocation(string method, IReadOnlyDictionary<string, object?> parameters) =>
        LayerGeometry(parameters.TryGetValue(nameof(Layer), out var layer) && layer is string name ? name : "resnet").Flops;
}

/// <summary>
/// The naive reference convolution (direct loops) at the same size as <see cref="ConvBenchmarks"/>, so the
/// GFLOP/s columns compare directly. A call takes a large fraction of a second, so the iterations are few and fixed.
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[WarmupCount(1)]
[IterationCount(5)]
public class ConvNaiveBenchmarks : IFlopCounted
{
    private static Conv2dGeometry Geometry => ConvBenchmarks.Geometry;

    private ConvOperands _x = null!;

    [GlobalSetup]
    public void Setup() => _x = new ConvOperands(Geometry);

    [Benchmark, BenchmarkCategory("Forward")]
    public void NaiveForward() => NaiveKernels.Instance.Conv2dForward(_x.Output, _x.Input, _x.Weight, _x.Bias, Geometry);

    [Benchmark, BenchmarkCategory("BackwardInput")]
    public void NaiveBackwardInput() => NaiveKernels.Instance.Conv2dBackwardInput(_x.DInput, _x.DOutput, _x.Weight, Geometry);

    [Benchmark, BenchmarkCategory("BackwardWeight")]
    public void NaiveBackwardWeight() => NaiveKernels.Instance.Conv2dBackwardWeight(_x.DWeight, _x.DOutput, _x.Input, Geometry);

    public static double FlopsPerInvocation(string method, IReadOnlyDictionary<string, object?> parameters) => Geometry.Flops;
}

/// <summary>Every tensor one convolution and its two backward passes read or write, filled deterministically.</summary>
internal sealed class ConvOperands(Conv2dGeometry g)
{
    public Tensor Input { get; } = BenchmarkData.UniformTensor(1, g.Batch, g.InputChannels, g.InputHeight, g.InputWidth);
    public Tensor Weight { get; } = BenchmarkData.UniformTensor(2, g.OutputChannels, g.InputChannelsPerGroup, g.KernelHeight, g.KernelWidth);
    public Tensor Bias { get; } = BenchmarkData.UniformTensor(3, g.OutputChannels);
    public Tensor Output { get; } = Tensor.Zeros(g.OutputShape);
    public Tensor DOutput { get; } = BenchmarkData.UniformTensor(4, g.Batch, g.OutputChannels, g.OutputHeight, g.OutputWidth);
    public Tensor DInput { get; } = Tensor.Zeros(g.InputShape);
    public Tensor DWeight { get; } = Tensor.Zeros(g.WeightShape);
}
