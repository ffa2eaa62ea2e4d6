using NanoCam.Autodiff;
using NanoCam.Core.Tests;
using NanoCam.Cpu.Naive;
using static NanoCam.Onnx.Tests.TestGraphs;

namespace NanoCam.Onnx.Tests;

/// <summary>
/// The Reduce family and ArgMin beyond the ONNX node tests (ReduceProd, L1, LogSum, LogSumExp, axes as an attribute,
/// noop_with_empty_axes) against direct loops, and backward through imported Reduce nodes against finite differences.
/// </summary>
public sealed class ReductionTests
{
    [Fact]
    public void ReduceMean_OverTwoAxes_BackwardMatchesFiniteDifferences()
    {
        var x = TapeGradientCheck.Random(new Random(1), 2, 3, 4);
        var model = Reduce("ReduceMean", 18, [0, -1], keepDims: 0);
        Assert.Equal([3], model.Run(NoGrad(), x).Shape.ToArray());
        TapeGradientCheck.Check(new NaiveKernels(), tape => model.Run(tape, x), [x]);
    }

    [Fact]
    public void ReduceMax_OverTwoAxes_BackwardMatchesFiniteDifferences()
    {
        // Values 0.05 apart: no ties, and no maximum changes within the finite-difference step.
        var x = Distinct([2, 3, 4], seed: 2);
        var model = Reduce("ReduceMax", 18, [0, 2], keepDims: 1);
        TapeGradientCheck.Check(new NaiveKernels(), tape => model.Run(tape, x), [x], h: 1e-3f);
    }

    [Fact]
    public void ReduceL2_BackwardMatchesFiniteDifferences()
    {
        var x = TapeGradientCheck.Random(new Random(3), 3, 4, 2);
        var model = Reduce("ReduceL2", 18, [1], keepDims: 0);
        TapeGradientCheck.Check(new NaiveKernels(), tape => model.Run(tape, x), [x], h: 1e-3f);
    }

    [Fact]
    public void ReduceLogSumExp_BackwardMatchesFiniteDifferences()
    {
        var x = TapeGradientCheck.Random(new Random(4), 2, 5, 3);
        var model = Reduce("ReduceLogSumExp", 18, [1, 2], keepDims: 1);
        TapeGradientCheck.Check(new NaiveKernels(), tape => model.Run(tape, x), [x], h: 1e-3f);
    }

    [Fact]
    public void ReduceProd_BackwardMatchesFiniteDifferences_WithAZeroFactor()
    {
        // An axis of 5 (padded with a 1 twice in the product tree); row 1 holds a zero, whose partial is the product of the rest.
        var x = TapeGradientCheck.Random(new Random(5), 3, 5);
        x[1, 2] = 0f;
        var model = Reduce("ReduceProd", 18, [1], keepDims: 0);
        TapeGradientCheck.Check(new NaiveKernels(), tape => model.Run(tape, x), [x], h: 1e-3f);
    }

    [Theory]
    [InlineData("ReduceProd")]
    [InlineData("ReduceL1")]
    [InlineData("ReduceLogSum")]
    [InlineData("ReduceLogSumExp")]
    [InlineData("ReduceSumSquare")]
    public void Reduce_OverAxesOneAndThree_MatchesADirectLoop(string op)
    {
        // x [2, 5, 3, 3] reduced over axes 1 and 3 (−1) → [2, 3]; positive values so ln Σx is defined.
        var x = TapeGradientCheck.Random(new Random(6), 2, 5, 3, 3);
        var xs = x.Span;
        for (int i = 0; i < xs.Length; i++) xs[i] = 0.6f + 0.5f * xs[i];
        var y = Reduce(op, 18, [1, -1], keepDims: 0).Run(NoGrad(), x);
        Assert.Equal([2, 3], y.Shape.ToArray());
        for (int n = 0; n < 2; n++)
            for (int h = 0; h < 3; h++)
            {
                var slice = new List<double>();
                for (int c = 0; c < 5; c++)
                    for (int w = 0; w < 3; w++) slice.Add(x[n, c, h, w]);
                double expected = op switch
                {
                    "ReduceProd" => slice.Aggregate(1.0, (p, v) => p * v),
                    "ReduceL1" => slice.Sum(Math.Abs),
                    "ReduceLogSum" => Math.Log(slice.Sum()),
                    "ReduceLogSumExp" => Math.Log(slice.Sum(Math.Exp)),
                    _ => slice.Sum(v => v * v),
                };
                Assert.True(Math.Abs(y[n, h] - expected) <= 2e-6 * (1 + Math.Abs(expected)), $"{op} [{n}, {h}]: {y[n, h]}, expected {expected}");
            }
    }

    [Fact]
    public void ReduceLogSumExp_OfLargeValues_ShiftsByTheMaximum_AndAllMinusInfinityGivesMinusInfinity()
    {
        var x = Tensor.FromArray([1000f, 1000f, 999f, float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity, -1000f, -1001f, float.NegativeInfinity], 3, 3);
        var y = Reduce("ReduceLogSumExp", 18, [1], keepDims: 0).Run(NoGrad(), x).ToArray();
        Assert.Equal(1000 + Math.Log(2 + Math.Exp(-1)), y[0], 1e-3);
        Assert.Equal(float.NegativeInfinity, y[1]);
        Assert.Equal(-1000 + Math.Log(1 + Math.Exp(-1)), y[2], 1e-3);
    }

    [Fact]
    public void ReduceProd_OverAnEmptyAxis_IsOne_AndMinIsPlusInfinity()
    {
        var x = Tensor.Zeros(2, 0, 3);
        var prod = Reduce("ReduceProd", 18, [1], keepDims: 1).Run(NoGrad(), x);
        Assert.Equal([2, 1, 3], prod.Shape.ToArray());
        Assert.All(prod.ToArray(), v => Assert.Equal(1f, v));
        Assert.All(Reduce("ReduceMin", 18, [1], keepDims: 0).Run(NoGrad(), x).ToArray(), v => Assert.Equal(float.PositiveInfinity, v));
    }

    [Fact]
    public void OldOpsets_TakeAxesAsAnAttribute_AndNoAxesMeansEveryAxis()
    {
        var x = TapeGradientCheck.Random(new Random(7), 2, 3, 4);
        var xs = x.ToArray();
        // Opset 11: axes [1] as an attribute, kept.
        var byAttribute = Node("ReduceMax", ["x"], ["y"], ("axes", new[] { 1 }));
        var y = Run(byAttribute, 11, ("x", x));
        Assert.Equal([2, 1, 4], y.Shape.ToArray());
        for (int n = 0; n < 2; n++)
            for (int w = 0; w < 4; w++)
                Assert.Equal(Math.Max(x[n, 0, w], Math.Max(x[n, 1, w], x[n, 2, w])), y[n, 0, w]);
        // Opset 13 ReduceSum without the axes input: every axis.
        var all = Run(Node("ReduceSum", ["x"], ["y"], ("keepdims", 0)), 13, ("x", x));
        Assert.Empty(all.Shape.ToArray());
        Assert.Equal(xs.Sum(v => (double)v), all.ToArray()[0], 1e-5);
    }

    [Theory]
    [InlineData("ReduceSumSquare")]
    [InlineData("ReduceL1")]
    [InlineData("ReduceMax")]
    public void NoopWithEmptyAxes_AppliesOnlyTheElementwiseMaps(string op)
    {
        // ReduceSumSquare acts as Square, ReduceL1 as Abs, ReduceMax as Identity (the ONNX schema's wording).
        var x = TapeGradientCheck.Random(new Random(8), 2, 3);
        var graph = Graph([Node(op, ["x", "axes"], ["y"], ("noop_with_empty_axes", 1))], "x", "y");
        graph.Initializer.Add(Int64Tensor("axes", [0], []));
        var y = Load(graph, 18).Run(NoGrad(), x);
        Assert.Equal([2, 3], y.Shape.ToArray());
        var xs = x.ToArray();
        float[] expected = op switch { "ReduceSumSquare" => [.. xs.Select(v => v * v)], "ReduceL1" => [.. xs.Select(MathF.Abs)], _ => xs };
        Assert.Equal(expected, y.ToArray());
    }

    [Theory]
    [InlineData(0, new long[] { 0, 2, 1 })]
    [InlineData(1, new long[] { 3, 2, 1 })]
    public void ArgMin_PicksTheFirstOrLastSmallest(int selectLast, long[] expected)
    {
        // Rows of x [3, 4]: the minimum 1 at columns 0 and 3, −2 at column 2 only, 0 at column 1 only.
        var x = Tensor.FromArray([1f, 5f, 2f, 1f, 3f, 4f, -2f, 7f, 9f, 0f, 8f, 6f], 3, 4);
        var model = SingleNode(Node("ArgMin", ["x"], ["y"], ("axis", -1), ("keepdims", 0), ("select_last_index", selectLast)), 13);
        var y = model.Run(NoGrad(), new Dictionary<string, OnnxValue> { ["x"] = OnnxValue.FromTensor(x) })["y"];
        Assert.Equal(OnnxDataType.Int64, y.ElementType);
        Assert.Equal([3], y.Dims);
        Assert.Equal(expected, y.ToInt64Array());
    }

    /// <summary>One Reduce node with the axes as an initializer (opset ≥ 18, or ReduceSum from 13).</summary>
    private static OnnxModel Reduce(string op, int opset, long[] axes, int keepDims)
    {
        var graph = Graph([Node(op, ["x", "axes"], ["y"], ("keepdims", keepDims))], "x", "y");
        graph.Initializer.Add(Int64Tensor("axes", [axes.Length], axes));
        return Load(graph, opset);
    }

    private static Tape NoGrad() => new(new NaiveKernels()) { GradEnabled = false };

    /// <summary>The values 0.05·k − 0.025·size in a seeded random order: no ties, and far apart for finite differences.</summary>
    private static Tensor Distinct(int[] dims, int seed)
    {
        int size = new Shape(dims).Size;
        var values = Enumerable.Range(0, size).Select(k => 0.05f * k - 0.025f * size).ToArray();
        new Random(seed).Shuffle(values);
        return Tensor.FromArray(values, dims);
    }
}
