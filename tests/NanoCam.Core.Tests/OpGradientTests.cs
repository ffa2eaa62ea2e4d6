using NanoCam.Autodiff;
using NanoCam.Ops;

namespace NanoCam.Core.Tests;

/// <summary>Every op's backward rule against central finite differences, on odd shapes, on every CPU backend.</summary>
public class OpGradientTests
{
    private static Tensor R(int seed, params int[] dims) => TapeGradientCheck.Random(new Random(seed), dims);

    /// <summary>Distinct values spaced ≥ 0.05 apart (shuffled), so max pooling has no near-ties for h = 1e-2.</summary>
    private static Tensor Distinct(int seed, params int[] dims)
    {
        var t = Tensor.Zeros(dims);
        var values = Enumerable.Range(0, t.Size).Select(i => (i - t.Size / 2) * 0.05f).ToArray();
        new Random(seed).Shuffle(values);
        values.CopyTo(t.Span);
        return t;
    }

    /// <summary>Values in ±[minimum, 1]: no element sits within h of a kink (or a pole) at 0.</summary>
    private static Tensor AwayFromZero(int seed, int[] dims, float minimum = 0.1f)
    {
        var t = R(seed, dims);
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = MathF.CopySign(minimum + (1 - minimum) * MathF.Abs(s[i]), s[i]);
        return t;
    }

    [Theory]
    [InlineData("naive", 1, 0, 1, 1)]
    [InlineData("simd", 1, 0, 1, 1)]
    [InlineData("naive", 2, 1, 1, 1)]
    [InlineData("simd", 2, 1, 1, 1)]
    [InlineData("naive", 1, 2, 2, 1)]
    [InlineData("simd", 1, 2, 2, 1)]
    [InlineData("naive", 2, 1, 2, 2)]
    [InlineData("simd", 2, 1, 2, 2)]
    [InlineData("naive", 1, 1, 1, 6)]
    [InlineData("simd", 1, 1, 1, 6)]
    public void Conv2d_MatchesFiniteDifferences_WithStridePaddingDilationGroups(string backend, int stride, int padding, int dilation, int groups)
    {
        // groups = 6 with 6 input channels is depthwise (one filter per channel, two per channel here: 12 outputs).
        var input = R(1, 2, 6, 7, 5);
        var weight = R(2, 12, 6 / groups, 3, 2);
        var bias = R(3, 12);
        TapeGradientCheck.Check(TestBackends.Get(backend),
            t => t.Conv2d(input, weight, bias, Conv2dGeometry.For(input.Shape, weight.Shape, (stride, stride + 1 > 2 ? 1 : stride), (padding, padding, padding + 1, padding), (dilation, 1), groups)),
            [input, weight, bias]);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void MatMul_MatchesFiniteDifferences_WithEveryTranspose(string backend)
    {
        foreach (var (ta, tb) in new[] { (false, false), (true, false), (false, true), (true, true) })
        {
            var a = ta ? R(4, 5, 3) : R(4, 3, 5);
            var b = tb ? R(5, 7, 5) : R(5, 5, 7);
            TapeGradientCheck.Check(TestBackends.Get(backend), t => t.MatMul(a, b, ta, tb, alpha: 0.5f), [a, b]);
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void BatchedMatMul_MatchesFiniteDifferences(string backend)
    {
        var a = R(6, 2, 3, 4);
        var b = R(7, 2, 4, 5);
        TapeGradientCheck.Check(TestBackends.Get(backend), t => t.BatchedMatMul(a, b), [a, b]);
    }

    [Theory]
    [InlineData("naive", 2, 2, 0, false)]
    [InlineData("simd", 2, 2, 0, false)]
    [InlineData("naive", 3, 2, 1, true)]
    [InlineData("simd", 3, 2, 1, true)]
    [InlineData("naive", 3, 3, 1, false)]
    [InlineData("simd", 3, 3, 1, false)]
    public void MaxPool2d_MatchesFiniteDifferences(string backend, int kernel, int stride, int padding, bool ceilMode)
    {
        var input = Distinct(8, 2, 3, 7, 6);
        TapeGradientCheck.Check(TestBackends.Get(backend), t => t.MaxPool2d(input, kernel, stride, padding, ceilMode), [input]);
    }

    [Theory]
    [InlineData("naive", true, false)]
    [InlineData("simd", true, false)]
    [InlineData("naive", false, false)]
    [InlineData("simd", false, false)]
    [InlineData("naive", true, true)]
    [InlineData("simd", true, true)]
    [InlineData("naive", false, true)]
    [InlineData("simd", false, true)]
    public void AvgPool2d_MatchesFiniteDifferences_EitherPaddingCount(string backend, bool countIncludePad, bool ceilMode)
    {
        var input = R(9, 2, 3, 7, 6);
        TapeGradientCheck.Check(TestBackends.Get(backend), t => t.AvgPool2d(input, 3, 2, 1, ceilMode, countIncludePad), [input]);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void GlobalPools_MatchFiniteDifferences(string backend)
    {
        var input = Distinct(10, 2, 3, 5, 3);
        TapeGradientCheck.Check(TestBackends.Get(backend), t => t.GlobalAvgPool(input), [input]);
        TapeGradientCheck.Check(TestBackends.Get(backend), t => t.GlobalMaxPool(input), [input]);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Activations_MatchFiniteDifferences(string backend)
    {
        var x = AwayFromZero(11, [3, 17]);
        var k = TestBackends.Get(backend);
        TapeGradientCheck.Check(k, t => t.Relu(x), [x]);
        TapeGradientCheck.Check(k, t => t.LeakyRelu(x, 0.2f), [x]);
        TapeGradientCheck.Check(k, t => t.Sigmoid(x), [x]);
        // Clip bounds halfway between the grid values of Distinct (multiples of 0.05), so no element sits within h of a bound.
        var grid = Distinct(24, 3, 17);
        TapeGradientCheck.Check(k, t => t.Clip(grid, -0.525f, 0.475f), [grid]);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void SoftmaxAndLogSoftmax_MatchFiniteDifferences_AlongEveryAxis(string backend)
    {
        var x = R(12, 2, 3, 4);
        var k = TestBackends.Get(backend);
        for (int axis = 0; axis < 3; axis++)
        {
            int a = axis;
            TapeGradientCheck.Check(k, t => t.Softmax(x, a), [x]);
            TapeGradientCheck.Check(k, t => t.LogSoftmax(x, a), [x]);
        }
        TapeGradientCheck.Check(k, t => t.Softmax(x, 1, flattenFromAxis: true), [x]);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void CrossEntropy_MatchesFiniteDifferences(string backend)
    {
        var logits = R(13, 5, 7);
        var labels = Tensor.FromArray([0f, 6f, 3f, 3f, 1f], 5);
        TapeGradientCheck.Check(TestBackends.Get(backend), t => t.CrossEntropy(logits, labels), [logits]);
    }

    [Fact]
    public void CrossEntropy_OfUniformLogits_IsLogOfClassCount()
    {
        var tape = new Tape(TestBackends.Get("naive"));
        var loss = tape.CrossEntropy(Tensor.Zeros(2, 10), Tensor.FromArray([3f, 9f], 2));
        Assert.Equal(MathF.Log(10), loss.ToArray()[0], 5);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void BatchNorm_MatchesFiniteDifferences_InTrainingAndInference(string backend)
    {
        var k = TestBackends.Get(backend);
        var x = R(14, 3, 4, 3, 2);
        var gamma = R(15, 4);
        var beta = R(16, 4);
        var mean = R(17, 4);
        var variance = Tensor.FromArray([0.5f, 1.5f, 2f, 0.9f], 4);
        TapeGradientCheck.Check(k, t => t.BatchNorm(x, gamma, beta, Tensor.Zeros(4), Tensor.FromArray([1f, 1, 1, 1], 4), training: true), [x, gamma, beta]);
        TapeGradientCheck.Check(k, t => t.BatchNorm(x, gamma, beta, mean, variance, training: false), [x, gamma, beta]);
        var flat = R(18, 5, 4);
        TapeGradientCheck.Check(k, t => t.BatchNorm(flat, gamma, beta, Tensor.Zeros(4), Tensor.FromArray([1f, 1, 1, 1], 4), training: true), [flat, gamma]);
    }

    [Fact]
    public void BatchNorm_UpdatesRunningStatistics_AsPyTorch()
    {
        // Channel values {1, 2, 3, 6}: mean 3, biased variance 3.5, unbiased 14/3.
        var x = Tensor.FromArray([1f, 2f, 3f, 6f], 4, 1);
        var runningMean = Tensor.Zeros(1);
        var runningVar = Tensor.FromArray([1f], 1);
        var tape = new Tape(TestBackends.Get("naive"));
        var y = tape.BatchNorm(x, Tensor.FromArray([1f], 1), Tensor.Zeros(1), runningMean, runningVar, training: true, momentum: 0.1f, epsilon: 0f);
        Assert.Equal(0.3f, runningMean.ToArray()[0], 6);
        Assert.Equal(0.9f + 0.1f * 14f / 3f, runningVar.ToArray()[0], 6);
        Assert.Equal(-2f / MathF.Sqrt(3.5f), y.ToArray()[0], 5);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Binary_MatchesFiniteDifferences_WithBroadcasting(string backend)
    {
        var k = TestBackends.Get(backend);
        var a = R(19, 2, 3, 4, 5);
        var bias = R(20, 3, 1, 1);
        // Denominators in ±[0.5, 1] keep 1/b smooth over the finite-difference step.
        var row = AwayFromZero(21, [5], minimum: 0.5f);
        foreach (var op in Enum.GetValues<BinaryOp>())
        {
            var o = op;
            TapeGradientCheck.Check(k, t => t.Binary(o, a, o == BinaryOp.Div ? row : bias), [a, o == BinaryOp.Div ? row : bias]);
            var right = o == BinaryOp.Div ? AwayFromZero(25, [2, 3, 4, 5], minimum: 0.5f) : a;
            TapeGradientCheck.Check(k, t => t.Binary(o, o == BinaryOp.Div ? row : bias, right), [right]);
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void ConcatReshapeSumMean_MatchFiniteDifferences(string backend)
    {
        var k = TestBackends.Get(backend);
        var a = R(22, 2, 3, 2, 2);
        var b = R(23, 2, 1, 2, 2);
        TapeGradientCheck.Check(k, t => t.Concat([a, b, a]), [a, b]);
        TapeGradientCheck.Check(k, t => t.Concat([a, a], axis: 3), [a]);
        TapeGradientCheck.Check(k, t => t.Flatten(t.Reshape(a, [4, 6])), [a]);
        TapeGradientCheck.Check(k, t => t.Add(t.Sum(a), t.Mean(b)), [a, b]);
    }

    [Fact]
    public void Dropout_ScalesKeptUnitsAndPassesGradientThroughTheMask_AndIsIdentityInEval()
    {
        var x = Tensor.FromArray(Enumerable.Range(1, 1000).Select(i => (float)i).ToArray(), 1000);
        x.RequiresGrad = true;
        var tape = new Tape(TestBackends.Get("naive")) { Training = true, Seed = 5 };
        var y = tape.Dropout(x, 0.25f, training: true);
        tape.Backward(tape.Sum(y));
        var yv = y.ToArray();
        var g = x.Grad!.ToArray();
        int kept = 0;
        for (int i = 0; i < yv.Length; i++)
        {
            if (yv[i] != 0) { kept++; Assert.Equal((i + 1) / 0.75f, yv[i], 3); Assert.Equal(1 / 0.75f, g[i], 5); }
            else Assert.Equal(0f, g[i]);
        }
        Assert.InRange(kept, 700, 800);
        var eval = new Tape(TestBackends.Get("naive")) { GradEnabled = false }.Dropout(x, 0.25f, training: false);
        Assert.Equal(x.ToArray(), eval.ToArray());
    }

    [Fact]
    public void Conv2d_HandCase_OneChannelTwoByTwoKernel()
    {
        // x = [[1,2,3],[4,5,6],[7,8,9]], w = [[1,0],[0,-1]]: y = x[i,j] − x[i+1,j+1] = −4 everywhere, plus bias 0.5.
        var x = Tensor.FromArray([1f, 2, 3, 4, 5, 6, 7, 8, 9], 1, 1, 3, 3);
        var w = Tensor.FromArray([1f, 0, 0, -1], 1, 1, 2, 2);
        var y = new Tape(TestBackends.Get("naive")).Conv2d(x, w, Tensor.FromArray([0.5f], 1));
        Assert.Equal([-3.5f, -3.5f, -3.5f, -3.5f], y.ToArray());
    }

    [Fact]
    public void MaxPool2d_CeilMode_DropsAWindowStartingInThePadding()
    {
        // 5 wide, kernel 2, stride 2, pad 1, ceil: windows start at −1, 1, 3 (5 would start in the end padding).
        var g = Pool2dGeometry.For(new Shape(1, 1, 5, 5), 2, 2, 1, ceilMode: true);
        Assert.Equal(3, g.OutputWidth);
        Assert.Equal(3, Pool2dGeometry.For(new Shape(1, 1, 6, 6), 2, 2, 0, ceilMode: true).OutputWidth);
    }

    public static TheoryData<string> Backends => TestBackends.Names;
}
