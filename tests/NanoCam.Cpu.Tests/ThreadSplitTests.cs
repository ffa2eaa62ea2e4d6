using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;
using NanoCam.Cpu.Threading;
using NanoCam.Elementwise;

namespace NanoCam.Cpu.Tests;

/// <summary>
/// The work-size rule of <see cref="SimdKernels"/>: a kernel call under <see cref="CpuThreadPool.DefaultSerialWork"/>
/// (multiply-adds, or 16 per element of a memory-bound pass) hands nothing to the helper threads, one above it does;
/// and whichever way a call goes — one thread, two threads with the rule, two threads splitting everything — the
/// result is the same to the bit, and agrees with the naive kernels.
/// </summary>
public sealed class ThreadSplitTests
{
    private static readonly NaiveKernels Naive = NaiveKernels.Instance;

    public static TheoryData<string, bool> Cases() => new()
    {
        { "conv 3x3, 8 -> 8, 16x16", false },                  // 147 K multiply-adds
        { "conv 3x3, 32 -> 32, 32x32", true },                 // 9.4 M (Winograd where AVX-512 runs)
        { "conv 3x3 stride 2, 32 -> 32, 32x32", true },        // 2.4 M, implicit GEMM
        { "conv 3x3, batch 4, 8 -> 8, 16x16", false },         // 590 K: the batch is not split either
        { "depthwise 3x3, 32, 16x16", false },                 // 74 K
        { "depthwise 3x3, batch 2, 64, 56x56", true },         // 3.6 M
        { "gemm 32x32x32", false },
        { "gemm 128x200x96", true },                           // 2.5 M
        { "maxpool 2x2, 8x16x16", false },
        { "maxpool 2x2, 4x32x64x64", true },                   // 524 K elements
        { "global average pool, 16x8x8", false },
        { "global average pool, 8x64x32x32", true },
        { "sigmoid, 1000", false },
        { "sigmoid, 100 000", true },
        { "relu, 1000", false },
        { "relu, 100 000", true },
        { "sum over an axis, 4x32x64", false },
        { "sum over an axis, 64x128x64", true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void AKernelCall_SplitsOnlyAboveTheThreshold_AndGivesTheSameBitsAtEveryThreadCount(string name, bool splits)
    {
        using var one = new SimdKernels(threads: 1);
        using var two = new SimdKernels(threads: 2);
        using var everything = new SimdKernels(threads: 2, serialWork: 0);
        float[] reference = Run(name, one);

        long before = two.SplitLoops;
        float[] twoThreads = Run(name, two);
        long split = two.SplitLoops - before;
        if (splits) Assert.True(split > 0, $"{name}: expected the call to be split across the pool");
        else Assert.Equal(0, split);

        float[] allSplit = Run(name, everything);
        Assert.Equal(Bits(reference), Bits(twoThreads));
        Assert.Equal(Bits(reference), Bits(allSplit));

        float[] naive = Run(name, Naive);
        float scale = 1 + naive.Select(MathF.Abs).Max();
        for (int i = 0; i < naive.Length; i++)
            Assert.True(MathF.Abs(naive[i] - reference[i]) <= 2e-5f * scale, $"{name}: element {i}: naive {naive[i]:G7}, simd {reference[i]:G7}");
    }

    [Fact]
    public void ABatchOnePassOfASmallNetwork_HandsNoLoopToTheHelpers()
    {
        // An MNIST-sized forward pass: conv 1 -> 8, pool, conv 8 -> 16, pool, global pool; every call is small.
        using var two = new SimdKernels(threads: 2);
        var rng = new Random(5);
        var x = SimdAgreementTests.Random(rng, 1, 1, 28, 28);
        var w1 = SimdAgreementTests.Random(rng, 8, 1, 3, 3);
        var w2 = SimdAgreementTests.Random(rng, 16, 8, 3, 3);
        var g1 = Conv2dGeometry.For(x.Shape, w1.Shape, padding: 1);
        var y1 = Tensor.Zeros(1, 8, 28, 28);
        var p1 = Tensor.Zeros(1, 8, 14, 14);
        var g2 = Conv2dGeometry.For(p1.Shape, w2.Shape, padding: 1);
        var y2 = Tensor.Zeros(1, 16, 14, 14);
        var p2 = Tensor.Zeros(1, 16, 7, 7);
        var gap = Tensor.Zeros(1, 16);
        two.Conv2dForward(y1, x, w1, null, g1);
        two.ActivationForward(Activation.Relu, y1, y1, new ActivationParams());
        two.MaxPool2dForward(p1, null, y1, Pool2dGeometry.For(y1.Shape, 2, 2));
        two.Conv2dForward(y2, p1, w2, null, g2);
        two.ActivationForward(Activation.Relu, y2, y2, new ActivationParams());
        two.MaxPool2dForward(p2, null, y2, Pool2dGeometry.For(y2.Shape, 2, 2));
        two.GlobalAvgPoolForward(gap, p2);
        Assert.Equal(0, two.SplitLoops);
    }

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();

    /// <summary>Runs case <paramref name="name"/> on <paramref name="k"/> with inputs drawn from a seed fixed per case.</summary>
    private static float[] Run(string name, IKernels k)
    {
        var rng = new Random(name.Length * 7919 + name[^1]);
        Tensor R(params int[] dims) => SimdAgreementTests.Random(rng, dims);
        switch (name)
        {
            case "conv 3x3, 8 -> 8, 16x16": return Conv(k, R(1, 8, 16, 16), R(8, 8, 3, 3), R(8), stride: 1, groups: 1);
            case "conv 3x3, 32 -> 32, 32x32": return Conv(k, R(1, 32, 32, 32), R(32, 32, 3, 3), R(32), stride: 1, groups: 1);
            case "conv 3x3 stride 2, 32 -> 32, 32x32": return Conv(k, R(1, 32, 32, 32), R(32, 32, 3, 3), R(32), stride: 2, groups: 1);
            case "conv 3x3, batch 4, 8 -> 8, 16x16": return Conv(k, R(4, 8, 16, 16), R(8, 8, 3, 3), null, stride: 1, groups: 1);
            case "depthwise 3x3, 32, 16x16": return Conv(k, R(1, 32, 16, 16), R(32, 1, 3, 3), R(32), stride: 1, groups: 32);
            case "depthwise 3x3, batch 2, 64, 56x56": return Conv(k, R(2, 64, 56, 56), R(64, 1, 3, 3), null, stride: 1, groups: 64);
            case "gemm 32x32x32": return Gemm(k, R(32, 32), R(32, 32), 32, 32, 32);
            case "gemm 128x200x96": return Gemm(k, R(128, 96), R(96, 200), 128, 200, 96);
            case "maxpool 2x2, 8x16x16": return MaxPool(k, R(1, 8, 16, 16));
            case "maxpool 2x2, 4x32x64x64": return MaxPool(k, R(4, 32, 64, 64));
            case "global average pool, 16x8x8": return GlobalPool(k, R(1, 16, 8, 8));
            case "global average pool, 8x64x32x32": return GlobalPool(k, R(8, 64, 32, 32));
            case "sigmoid, 1000": return Sigmoid(k, R(1000));
            case "sigmoid, 100 000": return Sigmoid(k, R(100_000));
            case "relu, 1000": return Relu(k, R(1000));
            case "relu, 100 000": return Relu(k, R(100_000));
            case "sum over an axis, 4x32x64": return Sum(k, R(4, 32, 64));
            case "sum over an axis, 64x128x64": return Sum(k, R(64, 128, 64));
            default: throw new ArgumentException(name);
        }
    }

    private static float[] Conv(IKernels k, Tensor x, Tensor w, Tensor? bias, int stride, int groups)
    {
        var g = Conv2dGeometry.For(x.Shape, w.Shape, stride: stride, padding: 1, groups: groups);
        var y = Tensor.Zeros(g.Batch, g.OutputChannels, g.OutputHeight, g.OutputWidth);
        k.Conv2dForward(y, x, w, bias, g);
        return y.ToArray();
    }

    private static float[] Gemm(IKernels k, Tensor a, Tensor b, int m, int n, int depth)
    {
        var c = Tensor.Zeros(m, n);
        k.Gemm(c, a, b, new GemmShape(m, n, depth));
        return c.ToArray();
    }

    private static float[] MaxPool(IKernels k, Tensor x)
    {
        var g = Pool2dGeometry.For(x.Shape, 2, 2);
        var y = Tensor.Zeros(x.Shape[0], x.Shape[1], x.Shape[2] / 2, x.Shape[3] / 2);
        k.MaxPool2dForward(y, null, x, g);
        return y.ToArray();
    }

    private static float[] GlobalPool(IKernels k, Tensor x)
    {
        var y = Tensor.Zeros(x.Shape[0], x.Shape[1]);
        k.GlobalAvgPoolForward(y, x);
        return y.ToArray();
    }

    private static float[] Sigmoid(IKernels k, Tensor x)
    {
        var y = Tensor.Zeros(x.Shape.ToArray());
        k.UnaryForward(y, x, new Sigmoid());
        return y.ToArray();
    }

    private static float[] Relu(IKernels k, Tensor x)
    {
        var y = Tensor.Zeros(x.Shape.ToArray());
        k.ActivationForward(Activation.Relu, y, x, new ActivationParams());
        return y.ToArray();
    }

    private static float[] Sum(IKernels k, Tensor x)
    {
        var y = Tensor.Zeros(x.Shape[0], x.Shape[2]);
        k.ReduceForward(ReduceKind.Sum, y, x, x.Shape[0], x.Shape[1], x.Shape[2], 1f);
        return y.ToArray();
    }
}
