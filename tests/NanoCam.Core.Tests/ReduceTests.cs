using NanoCam.Autodiff;
using NanoCam.Ops;

namespace NanoCam.Core.Tests;

/// <summary>Reduce over any axis set, its tie rule, arg-max/min and where, on every CPU backend.</summary>
public class ReduceTests
{
    public static TheoryData<string> Backends => TestBackends.Names;

    /// <summary>Distinct values spaced ≥ 0.05 apart (no ties within a finite-difference step).</summary>
    private static Tensor Distinct(int seed, params int[] dims)
    {
        var t = Tensor.Zeros(dims);
        var values = Enumerable.Range(0, t.Size).Select(i => (i - t.Size / 2) * 0.05f).ToArray();
        new Random(seed).Shuffle(values);
        values.CopyTo(t.Span);
        return t;
    }

    /// <summary>The reduction by its definition: every element goes to the output cell of its kept coordinates (double sums).</summary>
    private static float[] Reference(ReduceKind kind, Tensor x, int[] axes, float scale)
    {
        var dims = x.Shape.ToArray();
        var reduced = new bool[dims.Length];
        foreach (int a in axes) reduced[a < 0 ? a + dims.Length : a] = true;
        if (axes.Length == 0) Array.Fill(reduced, true);
        int outputs = 1;
        for (int a = 0; a < dims.Length; a++) if (!reduced[a]) outputs *= dims[a];
        var acc = new double[outputs];
        Array.Fill(acc, kind == ReduceKind.Sum ? 0 : kind == ReduceKind.Max ? double.NegativeInfinity : double.PositiveInfinity);
        var coordinate = new int[dims.Length];
        for (int i = 0; i < x.Size; i++)
        {
            for (int a = dims.Length - 1, r = i; a >= 0; a--) { coordinate[a] = r % dims[a]; r /= dims[a]; }
            int o = 0;
            for (int a = 0; a < dims.Length; a++) if (!reduced[a]) o = o * dims[a] + coordinate[a];
            double v = x.Span[i];
            acc[o] = kind == ReduceKind.Sum ? acc[o] + v : kind == ReduceKind.Max ? Math.Max(acc[o], v) : Math.Min(acc[o], v);
        }
        return [.. acc.Select(v => (float)(kind == ReduceKind.Sum ? scale * v : v))];
    }

    public static readonly int[][] AxisSets = [[], [1], [1, 2], [0, 2], [0, 3], [-1], [0, 1, 2, 3], [1, 3], [0, 2, 3], [2]];

    [Theory]
    [MemberData(nameof(Backends))]
    public void Reduce_EveryKindOverManyAxisSets_MatchesTheDefinition_WithAndWithoutKeepDims(string backend)
    {
        var x = Distinct(1, 2, 3, 4, 5);
        foreach (var axes in AxisSets)
        foreach (var kind in Enum.GetValues<ReduceKind>())
        foreach (bool keepDims in new[] { false, true })
        {
            var y = new Tape(TestBackends.Get(backend)).Reduce(kind, x, axes, keepDims, scale: 0.5f);
            var expectedDims = Enumerable.Range(0, 4).Where(a => axes.Length > 0 && !axes.Select(b => b < 0 ? b + 4 : b).Contains(a)).Select(a => x.Shape[a]);
            if (keepDims) expectedDims = Enumerable.Range(0, 4).Select(a => axes.Length == 0 || axes.Select(b => b < 0 ? b + 4 : b).Contains(a) ? 1 : x.Shape[a]);
            Assert.Equal(expectedDims, y.Shape.ToArray());
            var expected = Reference(kind, x, axes, 0.5f);
            var actual = y.ToArray();
            for (int i = 0; i < expected.Length; i++)
                Assert.True(MathF.Abs(expected[i] - actual[i]) <= 1e-5f, $"{kind} over [{string.Join(",", axes)}] element {i}: {actual[i]} vs {expected[i]}");
        }
        var mean = new Tape(TestBackends.Get(backend)).ReduceMean(x, [0, 2], keepDims: false);
        Assert.Equal(Reference(ReduceKind.Sum, x, [0, 2], 1f / 8).ToArray(), mean.ToArray(), new FloatClose(1e-6f));
    }

    private sealed class FloatClose(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => MathF.Abs(a - b) <= tolerance;
        public int GetHashCode(float v) => 0;
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Reduce_MatchesFiniteDifferences(string backend)
    {
        var k = TestBackends.Get(backend);
        var x = Distinct(2, 2, 3, 4, 3);
        foreach (var axes in new[] { new[] { 1 }, [1, 2], [0, 2], [0, 3], [], [1, 3] })
        foreach (bool keepDims in new[] { false, true })
        {
            TapeGradientCheck.Check(k, t => t.Reduce(ReduceKind.Sum, x, axes, keepDims, scale: 0.7f), [x]);
            TapeGradientCheck.Check(k, t => t.Reduce(ReduceKind.Max, x, axes, keepDims), [x]);
            TapeGradientCheck.Check(k, t => t.Reduce(ReduceKind.Min, x, axes, keepDims), [x]);
        }
        TapeGradientCheck.Check(k, t => t.ReduceMean(x, [-1, 1], keepDims: true), [x]);
    }

    /// <summary>The gradient of a max (min) over x, seeded with dy, from the tape.</summary>
    private static float[] Gradient(string backend, ReduceKind kind, Tensor x, int[] axes, float[] dy)
    {
        x.RequiresGrad = true;
        var tape = new Tape(TestBackends.Get(backend));
        var y = tape.Reduce(kind, x, axes, keepDims: false);
        tape.Backward(y, Tensor.FromArray(dy, y.Shape.ToArray()));
        return x.Grad!.ToArray();
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void MaxAndMin_SplitTheGradientEvenlyAmongTies_OverOneRunAndOverSeveral(string backend)
    {
        // One run (axis 1): [1, 3, 3] has two maxima, [2, 2, 2] three.
        var x = Tensor.FromArray([1, 3, 3, 2, 2, 2], 2, 3);
        Assert.Equal([0, 3, 3, 2, 2, 2], Gradient(backend, ReduceKind.Max, x, [1], [6, 6]));
        Assert.Equal([6, 0, 0, 2, 2, 2], Gradient(backend, ReduceKind.Min, x, [1], [6, 6]));
        // Axes 0 and 2 of [2, 2, 2] are not adjacent: two runs, and the tie count is over both.
        // x[:, 0, :] = [[5, 1], [1, 5]] (two 5s), x[:, 1, :] = [[7, 0], [7, 7]] (three 7s).
        var y = Tensor.FromArray([5, 1, 7, 0, 1, 5, 7, 7], 2, 2, 2);
        Assert.Equal([3, 0, 2, 0, 0, 3, 2, 2], Gradient(backend, ReduceKind.Max, y, [0, 2], [6, 6]));
        // Minima: x[:, 0, :] has two 1s; x[:, 1, :] has one 0.
        Assert.Equal([0, 3, 0, 6, 3, 0, 0, 0], Gradient(backend, ReduceKind.Min, y, [0, 2], [6, 6]));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Reduce_OverAnEmptyAxis_GivesTheIdentityOfEachKind(string backend)
    {
        var x = Tensor.Zeros(2, 0, 3);
        var tape = new Tape(TestBackends.Get(backend));
        Assert.Equal(new float[6], tape.Reduce(ReduceKind.Sum, x, [1], keepDims: false).ToArray());
        Assert.All(tape.Reduce(ReduceKind.Max, x, [1], keepDims: false).ToArray(), v => Assert.Equal(float.NegativeInfinity, v));
        Assert.All(tape.Reduce(ReduceKind.Min, x, [1], keepDims: false).ToArray(), v => Assert.Equal(float.PositiveInfinity, v));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void ArgMaxAndArgMin_PickTheFirstOrLastExtreme_AndNaNWins(string backend)
    {
        var tape = new Tape(TestBackends.Get(backend));
        var x = Tensor.FromArray([1, 4, 4, 0, 2, 0, 9, 9, 9, 3, 3, 1], 2, 2, 3);
        // Rows [1, 4, 4], [0, 2, 0], [9, 9, 9], [3, 3, 1].
        Assert.Equal([1, 1, 0, 0], tape.ArgMax(x, -1, keepDims: false, selectLast: false).ToArray());
        Assert.Equal([2, 1, 2, 1], tape.ArgMax(x, 2, keepDims: false, selectLast: true).ToArray());
        Assert.Equal([0, 0, 0, 2], tape.ArgMin(x, 2, keepDims: false, selectLast: false).ToArray());
        var lastMin = tape.ArgMin(x, 2, keepDims: true, selectLast: true);
        Assert.Equal([2, 2, 1], lastMin.Shape.ToArray());
        Assert.Equal([0, 2, 2, 2], lastMin.ToArray());
        // Along axis 1 (inner = 3): column by column over two rows.
        Assert.Equal([0, 0, 0, 0, 0, 0], tape.ArgMax(x, 1, keepDims: false, selectLast: false).ToArray());
        Assert.Equal([1, 1, 1, 1, 1, 1], tape.ArgMin(x, 1, keepDims: false, selectLast: false).ToArray());
        // NaN is the extreme of both (NumPy): the first NaN, or the last with selectLast.
        var withNaN = Tensor.FromArray([1, float.NaN, 5, float.NaN, 2], 5);
        Assert.Equal([1f], tape.ArgMax(withNaN, 0, keepDims: false, selectLast: false).ToArray());
        Assert.Equal([1f], tape.ArgMin(withNaN, 0, keepDims: false, selectLast: false).ToArray());
        Assert.Equal([3f], tape.ArgMax(withNaN, 0, keepDims: false, selectLast: true).ToArray());
        // Indices never ask for a gradient.
        var p = Distinct(3, 2, 3);
        p.RequiresGrad = true;
        Assert.False(new Tape(TestBackends.Get(backend)).ArgMax(p, 1, keepDims: false, selectLast: false).RequiresGrad);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Where_BroadcastsAllThree_AndRoutesTheGradient(string backend)
    {
        var condition = Tensor.FromArray([1, 0, float.NaN, -0f], 1, 4);   // NaN counts as true, −0 as false
        var a = TapeGradientCheck.Random(new Random(4), 3, 1);
        var b = TapeGradientCheck.Random(new Random(5), 2, 3, 4);
        var y = new Tape(TestBackends.Get(backend)).Where(condition, a, b);
        Assert.Equal([2, 3, 4], y.Shape.ToArray());
        for (int n = 0; n < 2; n++)
        for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++)
            Assert.Equal(j == 0 || j == 2 ? a[i, 0] : b[n, i, j], y.ToArray()[(n * 3 + i) * 4 + j]);
        TapeGradientCheck.Check(TestBackends.Get(backend), t => t.Where(condition, a, b), [a, b]);
        Assert.Throws<ArgumentException>(() => new Tape(TestBackends.Get(backend)).Where(Tensor.Zeros(2), a, b));
    }
}
