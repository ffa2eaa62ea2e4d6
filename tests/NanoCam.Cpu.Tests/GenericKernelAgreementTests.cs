using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;
using NanoCam.Elementwise;
using static NanoCam.Cpu.Tests.SimdAgreementTests;

namespace NanoCam.Cpu.Tests;

/// <summary>
/// The SIMD backend's generic kernels (unary/binary operator structs, remap, reductions, arg-reduce, select) against the
/// naive reference at odd sizes, vector tails and sizes large enough to split across 2 and 3 threads; results must not
/// depend on the thread count.
/// </summary>
public class GenericKernelAgreementTests
{
    private static readonly NaiveKernels Naive = NaiveKernels.Instance;
    private static readonly SimdKernels[] Simd = [new(threads: 1), new(threads: 2), new(threads: 3)];

    private static void AssertSame(Tensor expected, Tensor actual, string what) => Assert.True(expected.ToArray().AsSpan().SequenceEqual(actual.ToArray()), $"{what}: differs bit for bit");

    public static TheoryData<int> Sizes => [0, 1, 15, 16, 17, 1000, 8191, 40001];

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Unary_ForwardAndBackward_AgreeBitForBit(int size)
    {
        var rng = new Random(size + 1);
        var x = Random(rng, size);
        for (int i = 0; i < size; i++) x.Span[i] *= 5;
        var dy = Random(rng, size);
        Check(new Gelu()); Check(new Erf()); Check(new Mish()); Check(new Softplus()); Check(new Clip(-0.3f, 2f));
        Check(new Round()); Check(new Tanh()); Check(new Elu(0.5f)); Check(new RoundToHalf()); Check(new HardSwish());

        void Check<TOp>(TOp op) where TOp : struct, IUnaryFunction
        {
            var yn = Tensor.Zeros(size);
            Naive.UnaryForward(yn, x, op);
            var dxn = Random(new Random(3), size);
            var dxStart = Clone(dxn);
            Naive.UnaryBackward(dxn, dy, x, yn, op);
            Tensor? first = null, firstGradient = null;
            foreach (var simd in Simd)
            {
                var ys = Tensor.Zeros(size);
                simd.UnaryForward(ys, x, op);
                // A function with a vector body is within a few ulp of the scalar one (VectorFunctionTests states each
                // bound), and the same at every thread count; the others run the scalar code.
                if (op is IVectorUnaryFunction) AssertClose(yn, ys, 1e-6f, $"{op.Name} forward, {size} elements, {simd.Threads} threads");
                else AssertSame(yn, ys, $"{op.Name} forward, {size} elements, {simd.Threads} threads");
                if (first is null) first = ys;
                else AssertSame(first, ys, $"{op.Name} forward, {size} elements, {simd.Threads} threads against 1 thread");
                var dxs = Clone(dxStart);
                simd.UnaryBackward(dxs, dy, x, yn, op);
                if (op is IVectorUnaryGradient) AssertClose(dxn, dxs, 1e-6f, $"{op.Name} backward, {size} elements, {simd.Threads} threads");
                else AssertSame(dxn, dxs, $"{op.Name} backward, {size} elements, {simd.Threads} threads");
                if (firstGradient is null) firstGradient = dxs;
                else AssertSame(firstGradient, dxs, $"{op.Name} backward, {size} elements, {simd.Threads} threads against 1 thread");
            }
        }
    }

    public static TheoryData<int[], int[], int[]> BroadcastCases => new()
    {
        { [2, 3, 7, 5], [2, 3, 7, 5], [2, 3, 7, 5] },
        { [2, 3, 7, 5], [2, 3, 7, 5], [1, 3, 1, 1] },
        { [2, 3, 7, 5], [3, 1, 5], [2, 1, 7, 1] },     // both broadcast, along different axes
        { [4, 6], [6], [4, 1] },
        { [5], [], [5] },
        { [5], [5], [] },
        { [64, 33, 31], [64, 33, 31], [33, 1] },        // large enough to split; b a channel vector
        { [200, 17, 19], [200, 1, 1], [1, 17, 19] },    // large, a and b broadcast along disjoint axes
        { [3, 1, 40000], [3, 1, 40000], [1, 1, 1] },    // a scalar-like b: its gradient sums everything
        { [1, 17, 1], [1, 17, 1], [1, 17, 1] },         // axes of size 1 dropped
    };

    [Theory]
    [MemberData(nameof(BroadcastCases))]
    public void Binary_ForwardAndBackward_WithBroadcasting_AgreeWithNaive_AndAcrossThreadCounts(int[] output, int[] aShape, int[] bShape)
    {
        var rng = new Random(output.Sum() + aShape.Length);
        var a = Random(rng, aShape);
        var b = Random(rng, bShape);
        for (int i = 0; i < a.Size; i++) a.Span[i] = 0.25f + 2 * MathF.Abs(a.Span[i]);   // positive bases for Pow
        var dy = Random(rng, output);
        Check(new Pow()); Check(new Maximum()); Check(new PRelu()); Check(new Less()); Check(new Multiply());

        void Check<TOp>(TOp op) where TOp : struct, IBinaryFunction
        {
            string shapes = $"{op.Name} [{string.Join(",", aShape)}] ∘ [{string.Join(",", bShape)}]";
            var yn = Tensor.Zeros(output);
            Naive.BinaryForward(yn, a, b, op);
            var (daStart, dbStart) = (Random(new Random(5), aShape), Random(new Random(6), bShape));
            foreach (var (withA, withB) in new[] { (true, true), (true, false), (false, true) })
            {
                var (dan, dbn) = (withA ? Clone(daStart) : null, withB ? Clone(dbStart) : null);
                Naive.BinaryBackward(dan, dbn, dy, a, b, yn, op);
                float[]? firstA = null, firstB = null;
                foreach (var simd in Simd)
                {
                    var ys = Tensor.Zeros(output);
                    simd.BinaryForward(ys, a, b, op);
                    AssertSame(yn, ys, $"{shapes} forward, {simd.Threads} threads");
                    var (das, dbs) = (withA ? Clone(daStart) : null, withB ? Clone(dbStart) : null);
                    simd.BinaryBackward(das, dbs, dy, a, b, ys, op);
                    // A broadcast operand's gradient is a sum, added in another order than the reference's.
                    if (das is not null) AssertClose(dan!, das, 1e-5f, $"{shapes} dA, {simd.Threads} threads");
                    if (dbs is not null) AssertClose(dbn!, dbs, 1e-5f, $"{shapes} dB, {simd.Threads} threads");
                    firstA ??= das?.ToArray();
                    firstB ??= dbs?.ToArray();
                    if (das is not null) Assert.Equal(firstA, das.ToArray());
                    if (dbs is not null) Assert.Equal(firstB, dbs.ToArray());
                }
            }
        }
    }

    /// <summary>Plans from the tape helpers' shapes at a size that splits, plus random plans (permuted axes, every border, any step).</summary>
    public static IEnumerable<object[]> RemapPlans()
    {
        int[] dims = [5, 17, 19, 23];
        int[] strides = [17 * 19 * 23, 19 * 23, 23, 1];
        RemapAxis Plain(int a) => new(dims[a], dims[a], strides[a], 0, 1, BorderMode.Constant);
        yield return ["transpose", new RemapPlan([Plain(0), Plain(2), Plain(3), Plain(1)])];
        yield return ["transpose-leading", new RemapPlan([Plain(1), Plain(0), Plain(2), Plain(3)])];
        foreach (var border in Enum.GetValues<BorderMode>())
        {
            yield return [$"pad-{border}", new RemapPlan([Plain(0), Plain(1), new(19 + 3, 19, 23, -2, 1, border), new(23 + 5, 23, 1, -3, 1, border)], 0.5f)];
            yield return [$"pad-crop-{border}", new RemapPlan([Plain(0), Plain(1), new(19 - 2, 19, 23, 3, 1, border), new(23 + 1, 23, 1, 1, 1, border)], -1f)];
        }
        yield return ["slice-negative", new RemapPlan([new(3, 5, strides[0], 4, -2, BorderMode.Constant), Plain(1), new(10, 19, 23, 18, -2, BorderMode.Constant), new(23, 23, 1, 22, -1, BorderMode.Constant)])];
        yield return ["expand", new RemapPlan([new(6, 1, 0, 0, 0, BorderMode.Constant), Plain(1), new(19, 1, 23, 0, 0, BorderMode.Constant), Plain(3)])];
        yield return ["expand-last", new RemapPlan([Plain(0), Plain(1), Plain(2), new(40, 1, 1, 0, 0, BorderMode.Constant)])];
        yield return ["tile", new RemapPlan([new(10, 5, strides[0], 0, 1, BorderMode.Wrap), Plain(1), Plain(2), new(46, 23, 1, 0, 1, BorderMode.Wrap)])];
        yield return ["one-row", new RemapPlan([new(50000, 23, 1, -7, 1, BorderMode.Reflect)])];
        yield return ["scalar", new RemapPlan([])];
        var rng = new Random(99);
        for (int trial = 0; trial < 12; trial++)
        {
            var axes = Enumerable.Range(0, 4).Select(a => new RemapAxis(rng.Next(1, 30), dims[a], strides[a], rng.Next(-4, dims[a] + 3), rng.Next(-2, 3), (BorderMode)rng.Next(4))).ToArray();
            rng.Shuffle(axes);
            yield return [$"random-{trial}", new RemapPlan(axes, 2f)];
        }
    }

    [Theory]
    [MemberData(nameof(RemapPlans))]
    public void Remap_ForwardAndBackward_AgreeWithNaive(string name, RemapPlan plan)
    {
        var rng = new Random(name.Length);
        var x = Random(rng, 5, 17, 19, 23);
        var dy = Random(rng, Math.Max(plan.OutputSize, 0));
        var yn = Tensor.Zeros(plan.OutputSize);
        Naive.RemapForward(yn, x, plan);
        var dxn = Random(new Random(1), x.Shape.ToArray());
        var dxStart = Clone(dxn);
        Naive.RemapBackward(dxn, dy, plan);
        foreach (var simd in Simd)
        {
            var ys = Tensor.Zeros(plan.OutputSize);
            ys.Span.Fill(-12345f);   // every output must be written
            simd.RemapForward(ys, x, plan);
            AssertSame(yn, ys, $"{name} forward, {simd.Threads} threads");
            var dxs = Clone(dxStart);
            simd.RemapBackward(dxs, dy, plan);
            if (plan.IsInjective) AssertSame(dxn, dxs, $"{name} backward, {simd.Threads} threads");
            else AssertClose(dxn, dxs, 1e-5f, $"{name} backward, {simd.Threads} threads");
        }
    }

    public static TheoryData<int, int, int> ReduceShapes => new()
    {
        { 1, 40000, 1 }, { 37, 1111, 1 }, { 7, 13, 501 }, { 3, 5000, 3 }, { 5, 0, 7 }, { 1, 1, 1 }, { 2, 3, 17 },
        { 13, 17, 4099 }, { 2, 2, 16 }, { 40000, 2, 1 }, { 1, 3, 40000 },
    };

    [Theory]
    [MemberData(nameof(ReduceShapes))]
    public void Reduce_EveryKind_ForwardAndBackward_AgreeWithNaive(int outer, int size, int inner)
    {
        var rng = new Random(outer * 7 + size * 3 + inner);
        var x = Random(rng, outer, size, inner);
        // Many ties for max/min (values from a small set), and a few NaNs in a copy.
        var tied = Tensor.Zeros(outer, size, inner);
        for (int i = 0; i < tied.Size; i++) tied.Span[i] = rng.Next(0, 4);
        var withNaN = Clone(tied);
        for (int i = 3; i < withNaN.Size; i += 1001) withNaN.Span[i] = float.NaN;
        var dy = Random(rng, outer, inner);
        foreach (var kind in Enum.GetValues<ReduceKind>())
        foreach (var input in kind == ReduceKind.Sum ? new[] { x } : [x, tied, withNaN])
        {
            string tag = $"{kind} [{outer}, {size}, {inner}]";
            var yn = Tensor.Zeros(outer, inner);
            Naive.ReduceForward(kind, yn, input, outer, size, inner, 0.75f);
            var dxn = Random(new Random(2), outer, size, inner);
            var dxStart = Clone(dxn);
            if (input != withNaN) Naive.ReduceBackward(kind, dxn, dy, input, yn, outer, size, inner, 0.75f);
            float[]? first = null;
            foreach (var simd in Simd)
            {
                var ys = Tensor.Zeros(outer, inner);
                simd.ReduceForward(kind, ys, input, outer, size, inner, 0.75f);
                if (kind == ReduceKind.Sum) AssertClose(yn, ys, 1e-4f, $"{tag} forward, {simd.Threads} threads");
                else Assert.Equal(yn.ToArray(), ys.ToArray());
                first ??= ys.ToArray();
                Assert.Equal(first, ys.ToArray());
                if (input == withNaN) continue;
                var dxs = Clone(dxStart);
                simd.ReduceBackward(kind, dxs, dy, input, ys, outer, size, inner, 0.75f);
                AssertClose(dxn, dxs, 1e-6f, $"{tag} backward, {simd.Threads} threads");
            }
        }
    }

    [Theory]
    [MemberData(nameof(ReduceShapes))]
    public void ArgReduce_WithTiesAndNaN_AgreesWithNaiveExactly(int outer, int size, int inner)
    {
        if (size == 0) return;   // no index to pick: both backends refuse (tested in Core)
        var rng = new Random(outer + size + inner);
        var x = Tensor.Zeros(outer, size, inner);
        for (int i = 0; i < x.Size; i++) x.Span[i] = rng.Next(0, 5);
        for (int i = 7; i < x.Size; i += 503) x.Span[i] = float.NaN;
        for (int i = 11; i < x.Size; i += 1009) x.Span[i] = float.NaN;
        foreach (bool max in new[] { true, false })
        foreach (bool last in new[] { false, true })
        {
            var yn = Tensor.Zeros(outer, inner);
            Naive.ArgReduce(yn, x, outer, size, inner, max, last);
            foreach (var simd in Simd)
            {
                var ys = Tensor.Zeros(outer, inner);
                simd.ArgReduce(ys, x, outer, size, inner, max, last);
                Assert.Equal(yn.ToArray(), ys.ToArray());
            }
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Select_ForwardAndBackward_AgreeBitForBit(int size)
    {
        var rng = new Random(size + 2);
        var condition = Tensor.Zeros(size);
        float[] conditions = [0, -0f, 1, float.NaN, -3, 0.5f];
        for (int i = 0; i < size; i++) condition.Span[i] = conditions[rng.Next(conditions.Length)];
        var (a, b, dy) = (Random(rng, size), Random(rng, size), Random(rng, size));
        for (int i = 0; i < size; i += 13) dy.Span[i] = -0f;
        var yn = Tensor.Zeros(size);
        Naive.SelectForward(yn, condition, a, b);
        foreach (var simd in Simd)
        {
            var ys = Tensor.Zeros(size);
            simd.SelectForward(ys, condition, a, b);
            AssertSame(yn, ys, $"select forward {size}");
            foreach (var (withA, withB) in new[] { (true, true), (true, false), (false, true) })
            {
                Tensor? dan = withA ? Random(new Random(4), size) : null, dbn = withB ? Random(new Random(5), size) : null;
                Tensor? das = dan is null ? null : Clone(dan), dbs = dbn is null ? null : Clone(dbn);
                Naive.SelectBackward(dan, dbn, dy, condition);
                simd.SelectBackward(das, dbs, dy, condition);
                if (dan is not null) AssertSame(dan, das!, $"select dA {size}");
                if (dbn is not null) AssertSame(dbn, dbs!, $"select dB {size}");
            }
        }
    }
}
