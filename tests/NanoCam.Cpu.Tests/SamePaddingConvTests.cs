using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;
using static NanoCam.Cpu.Tests.SimdAgreementTests;

namespace NanoCam.Cpu.Tests;

/// <summary>
/// Stride-1 "same" convolutions (output H×W = input H×W), the GAP-CNN's layers: their weight gradient gathers patch
/// rows as shifted planes (Im2Col's same-padding path), checked against the naive kernel at 1 and 2 threads.
/// </summary>
public class SamePaddingConvTests
{
    private static readonly SimdKernels[] Backends = [new(threads: 1), new(threads: 2)];

    [Theory]
    [InlineData(3, 5, 9, 11, 7, 3, 1)]    // 3×3, pad 1, odd sizes
    [InlineData(2, 3, 6, 5, 4, 5, 2)]     // 5×5, pad 2: rows and columns shifted out by two
    [InlineData(3, 1, 28, 28, 10, 3, 1)]  // a first layer (row dots)
    [InlineData(6, 9, 14, 14, 11, 3, 1)]  // the second layer's size: a block of 5 images, then one alone
    [InlineData(21, 4, 7, 7, 6, 3, 1)]    // the third layer's size: a block of 20 images, then one alone
    [InlineData(2, 2, 2, 3, 3, 3, 1)]     // planes smaller than the kernel's reach
    public void BackwardWeightAndInput_AgreeWithNaive(int n, int c, int h, int w, int k, int kernel, int pad)
    {
        var rng = new Random(n * 131 + c * 17 + h);
        var input = Random(rng, n, c, h, w);
        var weight = Random(rng, k, c, kernel, kernel);
        var g = Conv2dGeometry.For(input.Shape, weight.Shape, padding: pad);
        Assert.Equal((h, w), (g.OutputHeight, g.OutputWidth));
        var dOutput = Random(rng, g.OutputShape.ToArray());
        var dwn = Random(new Random(2), weight.Shape.ToArray());
        var dxn = Random(new Random(1), input.Shape.ToArray());
        var (dwStart, dxStart) = (Clone(dwn), Clone(dxn));
        NaiveKernels.Instance.Conv2dBackwardWeight(dwn, dOutput, input, g);
        NaiveKernels.Instance.Conv2dBackwardInput(dxn, dOutput, weight, g);
        foreach (var simd in Backends)
        {
            var (dws, dxs) = (Clone(dwStart), Clone(dxStart));
            simd.Conv2dBackwardWeight(dws, dOutput, input, g);
            simd.Conv2dBackwardInput(dxs, dOutput, weight, g);
            AssertClose(dwn, dws, 1e-5f, $"backward weight {g} threads={simd.Threads}");
            AssertClose(dxn, dxs, 1e-5f, $"backward input {g} threads={simd.Threads}");
        }
    }
}
