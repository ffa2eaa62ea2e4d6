using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;
using NanoCam.Cpu.Simd.Conv;
using static NanoCam.Cpu.Tests.SimdAgreementTests;

namespace NanoCam.Cpu.Tests;

/// <summary>
/// The one-image Winograd F(4×4, 3×3) forward (Winograd4x4, taken by SimdKernels' inference convolution in no-grad passes, image by image) against
/// the naive direct sum: SqueezeNet's 55², 27² and 13² expand layers, odd map sizes (partial last tiles in both
/// directions, groups of tile rows with spare lanes), no and uneven padding, output widths 8 and 64 (1 and 16 tile
/// columns), input and output channels that fill or leave a partial block (17, 20, 33); 1 and 2 threads, which must
/// agree bit for bit; and no allocation after warm-up.
/// </summary>
public class Winograd4x4Tests
{
    // Own instances (test classes run in parallel); the 2-thread pool splits even small calls.
    private static readonly SimdKernels[] Backends = [new(threads: 1), new(threads: 2, serialWork: 0)];

    public static TheoryData<int, int, int, int, int> Cases => new()
    {
        // C, H, W, K, pads as the digits top left bottom right
        { 16, 55, 55, 64, 1111 },     // SqueezeNet fire2/3 expand: 14 tile columns, one tile row a group
        { 32, 27, 27, 128, 1111 },    // fire4/5: 7 tile columns, two tile rows a group, the last group half empty
        { 48, 13, 13, 192, 1111 },    // fire6/7: 4 × 4 tiles, one full group
        { 64, 13, 13, 256, 1111 },    // fire8/9: the most input channels
        { 17, 11, 19, 20, 0 },        // no padding: 9 × 17 output, odd C, K not a multiple of 8
        { 16, 10, 66, 33, 0 },        // output 64 wide: 16 tile columns; K = 33 leaves one channel in the last block
        { 24, 30, 9, 16, 1021 },      // uneven padding, output 31 × 8 (2 tile columns, 8 tile rows a group)
        { 20, 21, 23, 24, 2121 },     // wide padding, 23 × 21 output
        { 16, 12, 12, 16, 1111 },     // 3 × 3 tiles exactly
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_AgreesWithNaive_AndAcrossThreadCounts(int c, int h, int w, int k, int pads)
    {
        int pt = pads / 1000, pl = pads / 100 % 10, pb = pads / 10 % 10, pr = pads % 10;
        var rng = new Random(((c * 31 + h) * 17 + w) * 13 + k + pads);
        var input = Random(rng, 1, c, h, w);
        var weight = Random(rng, k, c, 3, 3);
        var bias = Random(rng, k);
        var g = Conv2dGeometry.For(input.Shape, weight.Shape, (1, 1), (pt, pl, pb, pr), (1, 1), 1);
        Assert.Equal(WinogradTransforms.IsSupported, Winograd4x4.Applies(g));
        var expected = Tensor.Zeros(g.OutputShape);
        NaiveKernels.Instance.Conv2dForward(expected, input, weight, bias, g);
        var e = expected.ToArray();
        float scale = 1 + e.Max(MathF.Abs);
        float[]? first = null;
        foreach (var simd in Backends)
        {
            var actual = Tensor.Zeros(g.OutputShape);
            actual.Span.Fill(float.NaN);   // every output element must be written
            simd.Conv2dInference(actual, 0, input, weight, bias, g, ConvEpilogue.None, null);
            var a = actual.ToArray();
            for (int i = 0; i < e.Length; i++)
                Assert.True(MathF.Abs(e[i] - a[i]) <= 1e-5f * scale, $"{g} threads={simd.Threads}: element {i}: naive {e[i]:G7}, F(4×4) {a[i]:G7}");
            if (first is null) first = a;
            else Assert.Equal(first, a);
        }
    }

    [Fact]
    public void Applies_OnlyToOneImageWithFewInputChannelsAndMapsUpTo64Wide()
    {
        static Conv2dGeometry Geometry(int n = 1, int c = 32, int h = 27, int w = 27, int r = 3, int stride = 1, int groups = 1) =>
            Conv2dGeometry.For(new Shape(n, c, h, w), new Shape(32, c / groups, r, r), (stride, stride), (1, 1, 1, 1), (1, 1), groups);
        Assert.Equal(WinogradTransforms.IsSupported, Winograd4x4.Applies(Geometry()));
        Assert.Equal(WinogradTransforms.IsSupported, Winograd4x4.Applies(Geometry(c: 64, w: 64)));
        Assert.False(Winograd4x4.Applies(Geometry(n: 2)));
        Assert.False(Winograd4x4.Applies(Geometry(c: 128)));
        Assert.False(Winograd4x4.Applies(Geometry(c: 8)));
        Assert.False(Winograd4x4.Applies(Geometry(w: 65)));
        Assert.False(Winograd4x4.Applies(Geometry(h: 7)));
        Assert.False(Winograd4x4.Applies(Geometry(stride: 2)));
        Assert.False(Winograd4x4.Applies(Geometry(r: 5)));
        Assert.False(Winograd4x4.Applies(Geometry(groups: 2)));
    }

    [Fact]
    public void Forward_WeightsChangedInPlace_UsesTheNewWeights()
    {
        // No transformed filter may outlive its call: a weight changed in place (a training step), one element only,
        // anywhere, must be seen; and so must the old weights again, and another layer of the same shape.
        var rng = new Random(11);
        var input = Random(rng, 1, 32, 27, 27);
        var weight = Random(rng, 64, 32, 3, 3);
        var other = Random(rng, 64, 32, 3, 3);
        var g = Conv2dGeometry.For(input.Shape, weight.Shape, stride: 1, padding: 1);
        var original = weight.ToArray();
        foreach (var simd in Backends)
        {
            Check(simd, weight);
            weight.Span[weight.Size - 1] += 0.5f;
            Check(simd, weight);
            weight.Span[0] = -weight.Span[0];
            Check(simd, weight);
            Check(simd, other);
            original.CopyTo(weight.Span);
            Check(simd, weight);
        }

        void Check(SimdKernels simd, Tensor w)
        {
            var expected = Tensor.Zeros(g.OutputShape);
            NaiveKernels.Instance.Conv2dForward(expected, input, w, null, g);
            var actual = Tensor.Zeros(g.OutputShape);
            simd.Conv2dInference(actual, 0, input, w, null, g, ConvEpilogue.None, null);
            var e = expected.ToArray();
            var a = actual.ToArray();
            float scale = 1 + e.Max(MathF.Abs);
            for (int i = 0; i < e.Length; i++)
                Assert.True(MathF.Abs(e[i] - a[i]) <= 1e-5f * scale, $"threads={simd.Threads}: element {i}: naive {e[i]:G7}, F(4×4) {a[i]:G7}");
        }
    }

    [Fact]
    public void Forward_AfterWarmUp_AllocatesNothing()
    {
        var g = Conv2dGeometry.For(new Shape(1, 16, 55, 55), new Shape(64, 16, 3, 3), stride: 1, padding: 1);
        var rng = new Random(5);
        var (input, weight, bias) = (Random(rng, 1, 16, 55, 55), Random(rng, 64, 16, 3, 3), Random(rng, 64));
        var output = Tensor.Zeros(g.OutputShape);
        foreach (var simd in Backends)
            Assert.Equal(0, WarmAllocations.Fewest(() => simd.Conv2dInference(output, 0, input, weight, bias, g, ConvEpilogue.None, null)));
    }

    [Fact]
    public void ABatch_GivesEachImageTheBitsItHasAlone()
    {
        // Inference runs F(4×4) image by image, so an explanation's batched passes match its one-image pass exactly.
        var rng = new Random(3);
        var batch = Random(rng, 3, 16, 27, 27);
        var weight = Random(rng, 32, 16, 3, 3);
        var bias = Random(rng, 32);
        var g = Conv2dGeometry.For(batch.Shape, weight.Shape, stride: 1, padding: 1);
        var image = g with { Batch = 1 };
        Assert.Equal(WinogradTransforms.IsSupported, Winograd4x4.Applies(image));
        foreach (var simd in Backends)
        {
            var all = Tensor.Zeros(g.OutputShape);
            simd.Conv2dInference(all, 0, batch, weight, bias, g, ConvEpilogue.None, null);
            int inFloats = 16 * 27 * 27, outFloats = 32 * 27 * 27;
            for (int n = 0; n < 3; n++)
            {
                var one = Tensor.FromArray(batch.ToArray().AsSpan(n * inFloats, inFloats).ToArray(), 1, 16, 27, 27);
                var alone = Tensor.Zeros(image.OutputShape);
                simd.Conv2dInference(alone, 0, one, weight, bias, image, ConvEpilogue.None, null);
                Assert.Equal(alone.ToArray(), all.ToArray().AsSpan(n * outFloats, outFloats).ToArray());
            }
        }
    }
}
