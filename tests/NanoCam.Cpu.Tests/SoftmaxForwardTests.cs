using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;
using static NanoCam.Cpu.Tests.SimdAgreementTests;

namespace NanoCam.Cpu.Tests;

/// <summary>
/// The SIMD softmax forward (shifted logits, one vector exp over the output, rows divided by their sums) against the
/// naive kernel: classes last (attention rows of 17) and classes in the middle (a channel softmax), logits far from 0,
/// masked logits of −∞, rows of one class; allocation-free once warm.
/// </summary>
public class SoftmaxForwardTests
{
    private static readonly SimdKernels Simd = new(threads: 1);

    public static TheoryData<int, int, int> Shapes => new()
    {
        { 34, 17, 1 }, { 1, 1000, 1 }, { 5, 3, 1 }, { 7, 1, 1 }, { 2, 17, 17 }, { 3, 10, 37 }, { 1, 4, 4096 }, { 6, 1, 9 }, { 0, 5, 1 },
        { 9, 16, 1 }, { 4, 33, 1 }, { 3, 48, 1 }, { 5, 63, 1 }, { 2, 64, 1 }, { 3, 65, 1 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Forward_AgreesWithNaive(int outer, int classes, int inner)
    {
        var rng = new Random(outer * 31 + classes * 7 + inner);
        var x = Random(rng, outer, classes, inner);
        var xs = x.Span;
        for (int i = 0; i < xs.Length; i++) xs[i] = (xs[i] - 0.5f) * 40 + (i % 3 == 0 ? 300 : 0);
        // A masked logit (attention's −∞) wherever the row keeps another finite one.
        if (classes > 1)
            for (int i = 0; i < xs.Length; i += 5 * inner + 1) xs[i] = float.NegativeInfinity;
        var expected = Tensor.Zeros(outer, classes, inner);
        NaiveKernels.Instance.SoftmaxForward(expected, x, outer, classes, inner);
        var actual = Tensor.Zeros(outer, classes, inner);
        actual.Span.Fill(float.NaN);
        Simd.SoftmaxForward(actual, x, outer, classes, inner);
        var (e, a) = (expected.ToArray(), actual.ToArray());
        for (int i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(e[i] - a[i]) <= 1e-6f + 1e-5f * Math.Abs(e[i]), $"[{outer}, {classes}, {inner}] element {i}: naive {e[i]}, simd {a[i]}");
    }

    [Fact]
    public void Forward_AllocatesNothing_OnceWarm()
    {
        var x = Random(new Random(2), 3, 10, 37);
        var y = Tensor.Zeros(3, 10, 37);
        var rows = Random(new Random(3), 34, 17);
        var p = Tensor.Zeros(34, 17);
        Simd.SoftmaxForward(y, x, 3, 10, 37);
        Simd.SoftmaxForward(p, rows, 34, 17, 1);
        Assert.Equal(0, WarmAllocations.Fewest(() =>
        {
            for (int i = 0; i < 10; i++)
            {
                Simd.SoftmaxForward(y, x, 3, 10, 37);
                Simd.SoftmaxForward(p, rows, 34, 17, 1);
            }
        }));
    }
}
