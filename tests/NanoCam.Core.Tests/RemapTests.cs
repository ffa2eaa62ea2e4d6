using NanoCam.Autodiff;
using NanoCam.Ops;

namespace NanoCam.Core.Tests;

/// <summary>The remap family (transpose, slice, pad, expand, tile): values worked by hand, the plan's own arithmetic, gradients.</summary>
public class RemapTests
{
    private static Tensor R(int seed, params int[] dims) => TapeGradientCheck.Random(new Random(seed), dims);
    private static Tensor Range(params int[] dims)
    {
        var t = Tensor.Zeros(dims);
        for (int i = 0; i < t.Size; i++) t.Span[i] = i + 1;
        return t;
    }

    public static TheoryData<string> Backends => TestBackends.Names;

    private static float[] Run(string backend, Func<Tape, Tensor> op) => op(new Tape(TestBackends.Get(backend))).ToArray();

    [Theory]
    [MemberData(nameof(Backends))]
    public void Pad_EveryMode_OnOneAxis_MatchesNumPyWorkedByHand(string backend)
    {
        var x = Range(4);   // [1, 2, 3, 4]
        Assert.Equal([9, 9, 9, 1, 2, 3, 4, 9, 9], Run(backend, t => t.Pad(x, [3], [2], BorderMode.Constant, 9)));
        Assert.Equal([1, 1, 1, 1, 2, 3, 4, 4, 4], Run(backend, t => t.Pad(x, [3], [2], BorderMode.Edge)));
        Assert.Equal([4, 3, 2, 1, 2, 3, 4, 3, 2], Run(backend, t => t.Pad(x, [3], [2], BorderMode.Reflect)));
        Assert.Equal([2, 3, 4, 1, 2, 3, 4, 1, 2], Run(backend, t => t.Pad(x, [3], [2], BorderMode.Wrap)));
        // Negative pads crop; a reflection longer than the axis keeps mirroring with period 2(n − 1), as NumPy.
        Assert.Equal([2, 3, 4, 0], Run(backend, t => t.Pad(x, [-1], [1], BorderMode.Constant)));
        Assert.Equal([2, 1], Run(backend, t => t.Pad(x, [1], [-3], BorderMode.Reflect)));
        Assert.Equal([2, 1, 2, 3, 2, 1, 2, 3], Run(backend, t => t.Pad(Range(3), [5], [0], BorderMode.Reflect)));
        // A one-element axis reflects onto itself.
        Assert.Equal([7, 7, 7], Run(backend, t => t.Pad(Tensor.FromArray([7f], 1), [1], [1], BorderMode.Reflect)));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Pad_ReflectOnTwoAxes_MatchesTheHandWorkedGrid(string backend)
    {
        var x = Range(2, 3);   // [[1, 2, 3], [4, 5, 6]]
        var y = new Tape(TestBackends.Get(backend)).Pad(x, [1, 1], [1, 1], BorderMode.Reflect);
        Assert.Equal([4, 5], y.Shape.ToArray());
        Assert.Equal([5, 4, 5, 6, 5, 2, 1, 2, 3, 2, 5, 4, 5, 6, 5, 2, 1, 2, 3, 2], y.ToArray());
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void TransposeSliceExpandTile_MatchTheirDefinitions(string backend)
    {
        var x = Range(2, 3, 4);
        var t = Run(backend, tape => tape.Transpose(x, [2, 0, 1]));
        for (int k = 0; k < 4; k++)
        for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            Assert.Equal(x[i, j, k], t[(k * 2 + i) * 3 + j]);

        var v = Range(5);
        Assert.Equal([5, 3, 1], Run(backend, tape => tape.Slice(v, [4], [-2], [3])));
        Assert.Equal([8, 7, 6, 20, 19, 18], Run(backend, tape => tape.Slice(x, [0, 1, 3], [1, 1, -1], [2, 1, 3])));

        var column = Range(3, 1);   // [[1], [2], [3]]
        var e = new Tape(TestBackends.Get(backend)).Expand(column, [2, 1, 4]);
        Assert.Equal([2, 3, 4], e.Shape.ToArray());
        Assert.Equal([1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3], e.ToArray());
        // ONNX Expand broadcasts both ways: [2, 1] with dims [1, 3] gives [2, 3].
        Assert.Equal([2, 3], new Tape(TestBackends.Get(backend)).Expand(Range(2, 1), [1, 3]).Shape.ToArray());

        Assert.Equal([1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4, 1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4], Run(backend, tape => tape.Tile(Range(2, 2), [2, 3])));
    }

    [Fact]
    public void ShapeErrors_AreArgumentExceptions_WithOneClearLine()
    {
        var tape = new Tape(TestBackends.Get("naive"));
        var x = Range(2, 3);
        var errors = new Action[]
        {
            () => tape.Transpose(x, [0, 0]),
            () => tape.Transpose(x, [1]),
            () => tape.Slice(x, [0, 0], [1, 1], [3, 1]),
            () => tape.Slice(x, [0, 0], [0, 1], [1, 1]),
            () => tape.Slice(x, [0, 2], [1, -1], [1, 4]),
            () => tape.Pad(x, [0, -2], [0, -2], BorderMode.Constant),
            () => tape.Pad(Tensor.Zeros(0, 2), [1, 0], [0, 0], BorderMode.Edge),
            () => tape.Expand(x, [4, 3]),
            () => tape.Tile(x, [2]),
        };
        foreach (var error in errors)
        {
            var e = Assert.Throws<ArgumentException>(error);
            Assert.DoesNotContain('\n', e.Message);
        }
    }

    [Fact]
    public void Plan_CoalescedKeepsEveryOffset_AndInjectivityIsDecidedSafely()
    {
        var rng = new Random(17);
        for (int trial = 0; trial < 300; trial++)
        {
            int rank = rng.Next(1, 5);
            var axes = new RemapAxis[rank];
            int stride = 1;
            for (int a = rank - 1; a >= 0; a--)
            {
                int n = rng.Next(1, 5), step = rng.Next(-2, 3), output = rng.Next(1, 6);
                var border = (BorderMode)rng.Next(4);
                axes[a] = new RemapAxis(output, n, stride, rng.Next(-3, n + 2), step, border);
                stride *= n;
            }
            if (rng.Next(3) == 0) rng.Shuffle(axes);   // a permutation of the axes: a transposed read
            var plan = new RemapPlan(axes, fill: -1);
            var merged = plan.Coalesced();
            Assert.Equal(plan.OutputSize, merged.OutputSize);
            var seen = new HashSet<int>();
            bool injective = true;
            for (int i = 0; i < plan.OutputSize; i++)
            {
                int offset = plan.InputOffset(i);
                Assert.Equal(offset, merged.InputOffset(i));
                if (offset >= 0 && !seen.Add(offset)) injective = false;
            }
            // IsInjective may say no for an injective plan, never yes for one that reads an element twice.
            if (plan.IsInjective) Assert.True(injective, plan.ToString());
        }
        var tape = new Tape(TestBackends.Get("naive"));
        var x = Range(3, 4, 5);
        Assert.True(((RemapNode)Last(tape, t => t.Transpose(x, [2, 0, 1]))).Plan.IsInjective);
        Assert.True(((RemapNode)Last(tape, t => t.Pad(x, [1, 0, 2], [0, 1, 1], BorderMode.Constant))).Plan.IsInjective);
        Assert.True(((RemapNode)Last(tape, t => t.Slice(x, [2, 0, 4], [-1, 2, -2], [3, 2, 3]))).Plan.IsInjective);
        Assert.False(((RemapNode)Last(tape, t => t.Tile(x, [1, 2, 1]))).Plan.IsInjective);
        Assert.False(((RemapNode)Last(tape, t => t.Expand(x, [2, 3, 4, 5]))).Plan.IsInjective);
        Assert.False(((RemapNode)Last(tape, t => t.Pad(x, [0, 0, 1], [0, 0, 0], BorderMode.Reflect))).Plan.IsInjective);
        // A transpose of the two leading axes leaves the trailing plane in one piece: 4 axes become 3 when coalesced.
        Assert.Equal(3, ((RemapNode)Last(tape, t => t.Transpose(Range(2, 3, 4, 5), [1, 0, 2, 3]))).Plan.Coalesced().Rank);
    }

    private static Autodiff.Node Last(Tape tape, Func<Tape, Tensor> op)
    {
        op(tape);
        return tape.Nodes[^1];
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void EveryHelper_MatchesFiniteDifferences(string backend)
    {
        var k = TestBackends.Get(backend);
        var x = R(1, 2, 3, 4);
        TapeGradientCheck.Check(k, t => t.Transpose(x, [2, 0, 1]), [x]);
        TapeGradientCheck.Check(k, t => t.Slice(x, [1, 2, 3], [-1, -2, -1], [2, 2, 3]), [x]);
        TapeGradientCheck.Check(k, t => t.Slice(x, [0, 0, 1], [1, 2, 2], [2, 2, 2]), [x]);
        foreach (var mode in Enum.GetValues<BorderMode>())
        {
            TapeGradientCheck.Check(k, t => t.Pad(x, [1, 2, 3], [2, 0, 1], mode, 0.5f), [x]);
            TapeGradientCheck.Check(k, t => t.Pad(x, [0, -1, 2], [1, 1, -2], mode, 0.5f), [x]);
        }
        var column = R(2, 3, 1);
        TapeGradientCheck.Check(k, t => t.Expand(column, [2, 3, 5]), [column]);
        TapeGradientCheck.Check(k, t => t.Tile(x, [2, 1, 3]), [x]);
        TapeGradientCheck.Check(k, t => t.Remap(x, new RemapPlan([new RemapAxis(5, 4, 1, -2, 1, BorderMode.Wrap), new RemapAxis(3, 2, 12, 1, -1, BorderMode.Edge)])), [x]);
    }
}
