namespace NanoCam.Gpu.Tests;

/// <summary>Batch normalization in training and inference mode, forward and backward, NCHW and [N, C].</summary>
public abstract class BatchNormParityTests(string device) : ParityTest(device)
{
    public static TheoryData<int[]> Shapes => new() { new[] { 3, 5, 7, 5 }, new[] { 6, 4 }, new[] { 1, 3, 1, 1 } };

    private static Tensor?[] Arguments(Random rng, int[] shape)
    {
        int c = shape[1];
        var runningVar = Random(rng, c);
        for (int i = 0; i < c; i++) runningVar.Span[i] = 0.5f + MathF.Abs(runningVar.Span[i]);
        // 0 output, 1 saved mean, 2 saved invStd, 3 running mean, 4 running var, 5 input, 6 gamma, 7 beta, 8 dInput, 9 dGamma, 10 dBeta, 11 dOutput
        return [Random(rng, shape), Random(rng, c), Random(rng, c), Random(rng, c), runningVar, Random(rng, shape), Random(rng, c), Random(rng, c),
            Random(rng, shape), Random(rng, c), Random(rng, c), Random(rng, shape)];
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Training_ForwardAndBackward_MatchNaive(int[] shape)
    {
        var args = Arguments(new Random(shape.Sum()), shape);
        Agree($"batch norm training forward {shape.Length}-d", 1e-5f, args, (k, a) =>
            k.BatchNormForwardTraining(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, 0.1f, 1e-5f), 0, 1, 2, 3, 4);
        // x̂ has unit scale, so the relative-to-scale measure needs no loosening: 1e-4 covers the float (vs double) sums over N·H·W.
        Agree($"batch norm training backward {shape.Length}-d", 1e-4f, args, (k, a) =>
        {
            k.BatchNormForwardTraining(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, 0.1f, 1e-5f);
            k.BatchNormBackward(a[8], a[9], a[10], a[11]!, a[5]!, a[6]!, a[1]!, a[2]!, batchStatistics: true);
        }, 8, 9, 10);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Inference_ForwardAndBackward_MatchNaive_WithNullGradients(int[] shape)
    {
        var args = Arguments(new Random(shape.Sum() + 1), shape);
        Agree($"batch norm inference forward {shape.Length}-d", 1e-5f, args, (k, a) =>
            k.BatchNormForwardInference(a[0]!, a[2]!, a[5]!, a[6]!, a[7]!, a[3]!, a[4]!, 1e-5f), 0, 2);
        Agree($"batch norm inference backward {shape.Length}-d", 1e-5f, args, (k, a) =>
        {
            k.BatchNormForwardInference(a[0]!, a[2]!, a[5]!, a[6]!, a[7]!, a[3]!, a[4]!, 1e-5f);
            k.BatchNormBackward(a[8], a[9], null, a[11]!, a[5]!, a[6]!, a[3]!, a[2]!, batchStatistics: false);
        }, 8, 9);
        Agree($"batch norm backward, only dBeta {shape.Length}-d", 1e-5f, args, (k, a) =>
            k.BatchNormBackward(null, null, a[10], a[11]!, a[5]!, a[6]!, a[3]!, a[2]!, batchStatistics: true), 10);
    }
}

/// <summary>Runs <see cref="BatchNormParityTests"/> on ILGPU's CPU accelerator.</summary>
public sealed class BatchNormParityOnCpuAccelerator() : BatchNormParityTests("ilgpu-cpu");
