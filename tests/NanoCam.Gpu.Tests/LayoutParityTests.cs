namespace NanoCam.Gpu.Tests;

/// <summary>Concat along every axis, dropout masks (bit-identical to the CPU's counter-based hash) and sums.</summary>
public abstract class LayoutParityTests(string device) : ParityTest(device)
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    public void Concat_ForwardAndBackward_MatchNaive(int axis)
    {
        var rng = new Random(axis);
        int[] input = [2, 3, 5, 7], output = [.. input];
        output[axis] += 4;
        Tensor?[] args = [Random(rng, output), Random(rng, input), Random(rng, input)];
        Agree($"concat forward axis {axis}", 0, args, (k, a) => k.ConcatForward(a[0]!, a[1]!, axis, 3), 0);
        Agree($"concat backward axis {axis}", 1e-6f, args, (k, a) => k.ConcatBackward(a[2]!, a[0]!, axis, 3), 2);
    }

    [Theory]
    [InlineData(0.5f)]
    [InlineData(0.1f)]
    [InlineData(1f)]
    public void Dropout_MaskIsIdenticalToCpu(float probability)
    {
        var rng = new Random(9);
        Tensor?[] args = [Random(rng, 3, 5, 7, 9), Random(rng, 3, 5, 7, 9), Random(rng, 3, 5, 7, 9)];
        Agree($"dropout p={probability}", 0, args, (k, a) => k.DropoutForward(a[0]!, a[1]!, a[2]!, probability, 0xDEADBEEFCAFEUL), 0, 1);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(129)]
    [InlineData(10_007)]
    public void SumAndBackward_MatchNaive(int length)
    {
        var rng = new Random(length);
        Tensor?[] args = [Tensor.Zeros(1), Random(rng, length), Random(rng, length), Host([1.5f], 1)];
        // A float sum of ~10⁴ terms (in a different order than the naive double sum) rounds at a few 1e-6 of the total.
        Agree($"sum of {length}", 1e-5f, args, (k, a) => k.Sum(a[0]!, a[1]!, 0.25f), 0);
        Agree($"sum backward of {length}", 1e-6f, args, (k, a) => k.SumBackward(a[2]!, a[3]!, -2f), 2);
    }
}

/// <summary>Runs <see cref="LayoutParityTests"/> on ILGPU's CPU accelerator.</summary>
public sealed class LayoutParityOnCpuAccelerator() : LayoutParityTests("ilgpu-cpu");
