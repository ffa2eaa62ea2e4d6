using NanoCam.Cpu.Naive;
using NanoCam.Nn.Models;
using NanoCam.Nn.Optim;
using NanoCam.Nn.Training;

namespace NanoCam.Benchmarks;

/// <summary>
/// One SGD-with-momentum step of the GAP-CNN ("gapcnn": conv 1→32, pool, 32→64, pool, 64→128, GAP, FC 128→10) on a
/// batch of 64 single-channel 28×28 images: forward, cross-entropy, backward, update. The Allocated column should
/// read 0 B (the step reuses its tape and buffers after warm-up). benchmarks/pytorch/train_step.py times the same step.
/// <c>SimdFostered</c> adds CAM fostering (λ = 0.1: the true-class CAM entropy term and its backward) to the same step;
/// <c>SimdGradCamFostered</c> fosters the Grad-CAM map at <c>features.3</c> (the second convolution, 64×14×14) instead: ∂y^c/∂A recorded on the tape
/// (Tape.Grad with createGraph) and differentiated again by the step's backward, a second-order step.
/// NANOCAM_BENCH_LOAD=1 runs every case with a busy-loop process beside it (<see cref="CompetingLoad"/>).
/// </summary>
[MemoryDiagnoser]
public class TrainingStepBenchmarks : IFlopCounted
{
    public const int Batch = 64, ImageSize = 28, Classes = 10;

    [Params(1, 2)]
    public int Threads { get; set; }

    private SimdKernels _simd = null!;
    private GapCnnStep _step = null!, _fostered = null!, _gradCamFostered = null!;

    [GlobalSetup]
    public void Setup()
    {
        CompetingLoad.Start();
        _simd = new SimdKernels(Threads);
        _step = new GapCnnStep(_simd);
        _fostered = new GapCnnStep(_simd, fosterCam: 0.1f);
        _gradCamFostered = new GapCnnStep(_simd, fosterCam: 0.1f, fosterMethod: CamFosteringMethod.GradCam);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        SimdLifetime.Release(_simd);
        CompetingLoad.Stop();
    }

    [Benchmark]
    public float Simd() => _step.Run();

    [Benchmark]
    public float SimdFostered() => _fostered.Run();

    [Benchmark]
    public float SimdGradCamFostered() => _gradCamFostered.Run();

    public static double FlopsPerInvocation(string method, IReadOnlyDictionary<string, object?> parameters) => StepFlops();

    /// <summary>
    /// Multiply-adds of the convolutions and the FC layer, ×2 FLOPs each: forward, dWeight and dInput for every layer
    /// except dInput of the first convolution (the images need no gradient). Element-wise work is not counted.
    /// </summary>
    public static double StepFlops()
    {
        var conv1 = Conv2dGeometry.For(new Shape(Batch, 1, ImageSize, ImageSize), new Shape(32, 1, 3, 3), padding: 1);
        var conv2 = Conv2dGeometry.For(new Shape(Batch, 32, ImageSize / 2, ImageSize / 2), new Shape(64, 32, 3, 3), padding: 1);
        var conv3 = Conv2dGeometry.For(new Shape(Batch, 64, ImageSize / 4, ImageSize / 4), new Shape(128, 64, 3, 3), padding: 1);
        var fc = new GemmShape(Batch, Classes, 128);
        return 2 * conv1.Flops + 3 * (conv2.Flops + conv3.Flops + fc.Flops);
    }
}

/// <summary>
/// The same training step on the naive reference kernels. One step takes seconds (its backward convolutions are
/// plain scalar loops), so the iterations are few and fixed.
/// </summary>
[MemoryDiagnoser]
[WarmupCount(1)]
[IterationCount(3)]
public class TrainingStepNaiveBenchmarks : IFlopCounted
{
    private GapCnnStep _step = null!;

    [GlobalSetup]
    public void Setup() => _step = new GapCnnStep(NaiveKernels.Instance);

    [Benchmark]
    public float Naive() => _step.Run();

    public static double FlopsPerInvocation(string method, IReadOnlyDictionary<string, object?> parameters) => TrainingStepBenchmarks.StepFlops();
}

/// <summary>The GAP-CNN, its optimizer and one fixed random batch, warmed up so that later steps allocate nothing.</summary>
internal sealed class GapCnnStep
{
    private const int WarmupSteps = 2;
    private readonly TrainingStep _step;
    private readonly Tensor _images, _labels;

    public GapCnnStep(IKernels kernels, float fosterCam = 0, CamFosteringMethod fosterMethod = CamFosteringMethod.Cam)
    {
        const int batch = TrainingStepBenchmarks.Batch, size = TrainingStepBenchmarks.ImageSize, classes = TrainingStepBenchmarks.Classes;
        var model = Architectures.Create("gapcnn", inputChannels: 1, classes: classes, seed: 42);
        model.MoveTo(kernels); // onto the device for the ILGPU kernels; a no-op on the CPU
        var optimizer = new Sgd(kernels, model.TrainableParameters(), learningRate: 0.01f, momentum: 0.9f);
        var fostering = fosterCam <= 0 ? null
            : fosterMethod == CamFosteringMethod.GradCam ? new CamFostering(model, fosterCam, "features.3", CamFosteringMethod.GradCam)
            : new CamFostering(model, fosterCam);
        _step = new TrainingStep(model, optimizer, kernels, fostering: fostering);
        _images = Tensor.FromArray(BenchmarkData.Uniform(batch * size * size, seed: 1, low: 0f, high: 1f), batch, 1, size, size);
        _labels = BenchmarkData.Labels(batch, classes, seed: 2);
        for (int i = 0; i < WarmupSteps; i++) Run();
    }

    /// <summary>One step; returns the loss so the work cannot be optimized away.</summary>
    public float Run() => _step.Run(_images, _labels).Loss;
}
