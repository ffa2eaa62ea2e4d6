namespace NanoCam.Gpu.Tests;

/// <summary>SGD with momentum and Adam update steps, several steps in a row so the state carries.</summary>
public abstract class OptimizerParityTests(string device) : ParityTest(device)
{
    [Fact]
    public void SgdSteps_MatchNaive()
    {
        var rng = new Random(11);
        Tensor?[] args = [Random(rng, 37), Random(rng, 37), Tensor.Zeros(37)];
        Agree("sgd, 3 steps", 1e-6f, args, (k, a) =>
        {
            for (int t = 0; t < 3; t++) k.SgdStep(a[0]!, a[1]!, a[2]!, 0.1f, 0.9f, 1e-2f);
        }, 0, 2);
    }

    [Fact]
    public void AdamSteps_MatchNaive()
    {
        var rng = new Random(12);
        Tensor?[] args = [Random(rng, 41), Random(rng, 41), Tensor.Zeros(41), Tensor.Zeros(41)];
        Agree("adam, 3 steps", 1e-6f, args, (k, a) =>
        {
            for (int t = 1; t <= 3; t++) k.AdamStep(a[0]!, a[1]!, a[2]!, a[3]!, 1e-2f, 0.9f, 0.999f, 1e-8f, 1e-4f, t);
        }, 0, 2, 3);
    }
}

/// <summary>Runs <see cref="OptimizerParityTests"/> on ILGPU's CPU accelerator.</summary>
public sealed class OptimizerParityOnCpuAccelerator() : OptimizerParityTests("ilgpu-cpu");
