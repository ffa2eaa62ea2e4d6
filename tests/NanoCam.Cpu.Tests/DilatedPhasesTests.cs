using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;
using NanoCam.Cpu.Simd.Conv;
using static NanoCam.Cpu.Tests.SimdAgreementTests;

namespace NanoCam.Cpu.Tests;

/// <summary>
/// Dilated convolutions that keep the map's size run as undilated Winograd convolutions on the map's polyphase
/// components (DilatedPhases). Forward, input gradient (added and written) and weight gradient against the naive
/// kernels, at 1, 2 and 3 threads (blocks of images split across threads).
/// </summary>
public class DilatedPhasesTests
{
    private static readonly NaiveKernels Naive = NaiveKernels.Instance;
    private static readonly SimdKernels[] Simd = [new(threads: 1), new(threads: 2), new(threads: 3)];

    public static TheoryData<int, int, int, int, int, int, int> Cases => new()
    {
        // batch, C, K, H, W, dilation, groups
        { 4, 32, 64, 32, 32, 2, 1 },   // the demo network's dilated layer (32×32 map, 16×16 phases: whole vectors)
        { 3, 16, 24, 22, 34, 2, 1 },   // phases of 11 × 17: a vector and a scalar tail per row
        { 2, 16, 16, 18, 18, 3, 1 },   // d = 3: nine 6×6 phases, split and merged cell by cell
        { 3, 32, 32, 20, 20, 2, 2 },   // two groups of 16 channels
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void DilatedConv_AsPhases_AgreesWithNaive(int n, int c, int k, int h, int w, int dilation, int groups)
    {
        var rng = new Random(n + c + h + dilation);
        var input = SimdAgreementTests.Random(rng, n, c, h, w);
        var weight = SimdAgreementTests.Random(rng, k, c / groups, 3, 3);
        var bias = SimdAgreementTests.Random(rng, k);
        var g = Conv2dGeometry.For(input.Shape, weight.Shape, padding: dilation, dilation: dilation, groups: groups);
        // The phases run on Winograd's AVX-512 transforms; without AVX-512 the same geometry takes the general path,
        // which the comparisons below hold to the naive kernels all the same.
        Assert.True(DilatedPhases.Applies(g) == WinogradTransforms.IsSupported, $"{g}: phases {DilatedPhases.Applies(g)}, AVX-512 {WinogradTransforms.IsSupported}");
        var dOutput = SimdAgreementTests.Random(rng, g.OutputShape.ToArray());

        var y = Tensor.Zeros(g.OutputShape);
        Naive.Conv2dForward(y, input, weight, bias, g);
        var dx = SimdAgreementTests.Random(new Random(1), input.Shape.ToArray());
        var dxStart = Clone(dx);
        Naive.Conv2dBackwardInput(dx, dOutput, weight, g);
        var dxWritten = Tensor.Zeros(g.InputShape);
        Naive.Conv2dBackwardInput(dxWritten, dOutput, weight, g);
        var dw = SimdAgreementTests.Random(new Random(2), weight.Shape.ToArray());
        var dwStart = Clone(dw);
        Naive.Conv2dBackwardWeight(dw, dOutput, input, g);

        foreach (var simd in Simd)
        {
            string tag = $"{g} threads={simd.Threads}";
            var ys = Tensor.Zeros(g.OutputShape);
            simd.Conv2dForward(ys, input, weight, bias, g);
            AssertClose(y, ys, 1e-5f, "forward " + tag);

            var dxs = Clone(dxStart);
            simd.Conv2dBackwardInput(dxs, dOutput, weight, g);
            AssertClose(dx, dxs, 1e-5f, "backward input, added " + tag);
            var written = Tensor.Zeros(g.InputShape);
            written.Span.Fill(float.NaN);
            simd.Conv2dBackwardInput(written, dOutput, weight, g, accumulate: false);
            AssertClose(dxWritten, written, 1e-5f, "backward input, written " + tag);

            var dws = Clone(dwStart);
            simd.Conv2dBackwardWeight(dws, dOutput, input, g);
            AssertClose(dw, dws, 1e-5f, "backward weight " + tag);
        }
    }
}
