using NanoCam.Elementwise;

namespace NanoCam.Gpu.Tests;

/// <summary>
/// The generic kernels on an ILGPU accelerator against the naive CPU backend: unary and binary operator structs (one
/// compiled kernel each), remap plans, axis reductions with ties, arg-reduce and select.
/// </summary>
public abstract class FunctionParityTests(string device) : ParityTest(device)
{
    /// <summary>Runs forward, then backward from the forward's output, for one unary struct on values in ±3.</summary>
    private void Unary<TOp>(TOp op, float tolerance) where TOp : struct, IUnaryFunction
    {
        var rng = new Random(op.Name.Length);
        var x = Random(rng, 3, 37);
        for (int i = 0; i < x.Size; i++) x.Span[i] *= 3;
        Tensor?[] args = [Tensor.Zeros(3, 37), x, Random(rng, 3, 37), Random(rng, 3, 37)];
        Agree($"{op.Name} forward", tolerance, args, (k, a) => k.UnaryForward(a[0]!, a[1]!, op), 0);
        Agree($"{op.Name} backward", tolerance, args, (k, a) =>
        {
            k.UnaryForward(a[0]!, a[1]!, op);
            k.UnaryBackward(a[2]!, a[3]!, a[1]!, a[0]!, op);
        }, 2);
    }

    [Fact]
    public void UnaryFunctions_ForwardAndBackward_MatchNaive()
    {
        // A GPU's exp, log and tanh may differ from the host's by a few ulps.
        Unary(new Erf(), 1e-6f);
        Unary(new Gelu(), 1e-6f);
        Unary(new GeluTanh(), 1e-6f);
        Unary(new Mish(), 1e-5f);
        Unary(new Softplus(), 1e-5f);
        Unary(new Sigmoid(), 1e-5f);
        Unary(new Tanh(), 1e-5f);
        Unary(new Elu(0.8f), 1e-5f);
        Unary(new Clip(-0.5f, 1.5f), 0);
        Unary(new HardSwish(), 1e-6f);
        Unary(new Round(), 0);
        Unary(new RoundToHalf(), 0);
        Unary(new RoundToBFloat16(), 0);
        Unary(new PowScalar(3f), 1e-5f);
    }

    public static TheoryData<int[], int[], int[]> BroadcastCases => new()
    {
        { [2, 3, 7, 5], [2, 3, 7, 5], [2, 3, 7, 5] },
        { [2, 3, 7, 5], [2, 3, 7, 5], [1, 3, 1, 1] },
        { [2, 3, 7, 5], [3, 1, 5], [2, 1, 7, 1] },
        { [5], [], [5] },
    };

    /// <summary>Forward, then backward with both, only dA and only dB, for one binary struct.</summary>
    private void Binary<TOp>(TOp op, int[] output, int[] aShape, int[] bShape, float tolerance) where TOp : struct, IBinaryFunction
    {
        var rng = new Random(op.Name.Length + output.Sum());
        var a = Random(rng, aShape);
        for (int i = 0; i < a.Size; i++) a.Span[i] = 0.25f + 2 * MathF.Abs(a.Span[i]);   // positive bases for Pow
        string shapes = $"{op.Name} [{string.Join(",", aShape)}] ∘ [{string.Join(",", bShape)}]";
        Tensor?[] args = [Tensor.Zeros(output), a, Random(rng, bShape), Random(rng, aShape), Random(rng, bShape), Random(rng, output)];
        Agree($"{shapes} forward", tolerance, args, (k, t) => k.BinaryForward(t[0]!, t[1]!, t[2]!, op), 0);
        Agree($"{shapes} backward", tolerance, args, (k, t) =>
        {
            k.BinaryForward(t[0]!, t[1]!, t[2]!, op);
            k.BinaryBackward(t[3], t[4], t[5]!, t[1]!, t[2]!, t[0]!, op);
        }, 3, 4);
        Tensor?[] onlyB = [args[0], args[1], args[2], null, args[4], args[5]];
        Agree($"{shapes} backward, dA null", tolerance, onlyB, (k, t) =>
        {
            k.BinaryForward(t[0]!, t[1]!, t[2]!, op);
            k.BinaryBackward(t[3], t[4], t[5]!, t[1]!, t[2]!, t[0]!, op);
        }, 4);
        Tensor?[] onlyA = [args[0], args[1], args[2], args[3], null, args[5]];
        Agree($"{shapes} backward, dB null", tolerance, onlyA, (k, t) =>
        {
            k.BinaryForward(t[0]!, t[1]!, t[2]!, op);
            k.BinaryBackward(t[3], t[4], t[5]!, t[1]!, t[2]!, t[0]!, op);
        }, 3);
    }

    [Theory]
    [MemberData(nameof(BroadcastCases))]
    public void BinaryFunctions_WithBroadcasting_ForwardAndBackward_MatchNaive(int[] output, int[] aShape, int[] bShape)
    {
        Binary(new Pow(), output, aShape, bShape, 1e-5f);
        Binary(new Maximum(), output, aShape, bShape, 1e-6f);
        Binary(new Minimum(), output, aShape, bShape, 1e-6f);
        Binary(new PRelu(), output, aShape, bShape, 1e-6f);
        Binary(new Divide(), output, aShape, bShape, 1e-5f);
        Binary(new GreaterOrEqual(), output, aShape, bShape, 0);
        Binary(new Xor(), output, aShape, bShape, 0);
    }

    public static IEnumerable<object[]> Plans()
    {
        int[] dims = [2, 3, 5, 7];
        int[] strides = [105, 35, 7, 1];
        RemapAxis Plain(int a) => new(dims[a], dims[a], strides[a], 0, 1, BorderMode.Constant);
        yield return ["transpose", new RemapPlan([Plain(3), Plain(0), Plain(2), Plain(1)])];
        foreach (var border in Enum.GetValues<BorderMode>())
            yield return [$"pad {border}", new RemapPlan([Plain(0), Plain(1), new(5 + 4, 5, 7, -3, 1, border), new(7 - 1, 7, 1, 2, 1, border)], 0.5f)];
        yield return ["slice with negative steps", new RemapPlan([Plain(0), new(2, 3, 35, 2, -2, BorderMode.Constant), Plain(2), new(3, 7, 1, 6, -3, BorderMode.Constant)])];
        yield return ["expand", new RemapPlan([new(3, 1, 0, 0, 0, BorderMode.Constant), Plain(0), Plain(1), new(4, 1, 7, 0, 0, BorderMode.Constant), Plain(3)])];
        yield return ["tile", new RemapPlan([new(4, 2, 105, 0, 1, BorderMode.Wrap), Plain(1), Plain(2), new(14, 7, 1, 0, 1, BorderMode.Wrap)])];
    }

    [Theory]
    [MemberData(nameof(Plans))]
    public void Remap_ForwardAndBackward_MatchNaive(string name, RemapPlan plan)
    {
        var rng = new Random(name.Length);
        Tensor?[] args = [Tensor.Zeros(plan.OutputSize), Random(rng, 2, 3, 5, 7), Random(rng, plan.OutputSize), Random(rng, 2, 3, 5, 7)];
        Agree($"remap {name} forward", 0, args, (k, a) => k.RemapForward(a[0]!, a[1]!, plan), 0);
        Agree($"remap {name} backward", 1e-6f, args, (k, a) => k.RemapBackward(a[3]!, a[2]!, plan), 3);
    }

    [Theory]
    [InlineData(3, 5, 7)]      // short lines: a thread each
    [InlineData(2, 300, 3)]    // long lines: a group each
    [InlineData(4, 100, 1)]
    [InlineData(3, 0, 2)]      // an empty axis
    public void Reduce_EveryKind_ForwardAndBackward_MatchNaive_WithTies(int outer, int size, int inner)
    {
        var rng = new Random(outer * 100 + size + inner);
        var tied = Tensor.Zeros(outer, size, inner);
        for (int i = 0; i < tied.Size; i++) tied.Span[i] = rng.Next(0, 4) * 0.5f;
        foreach (var kind in Enum.GetValues<ReduceKind>())
        {
            Tensor?[] args = [Tensor.Zeros(outer, inner), kind == ReduceKind.Sum ? Random(rng, outer, size, inner) : tied, Random(rng, outer, inner), Random(rng, outer, size, inner)];
            // Float sums of up to 300 terms in another order than the naive double sum.
            Agree($"reduce {kind} [{outer}, {size}, {inner}] forward", 1e-5f, args, (k, a) => k.ReduceForward(kind, a[0]!, a[1]!, outer, size, inner, 0.5f), 0);
            Agree($"reduce {kind} [{outer}, {size}, {inner}] backward", 1e-6f, args, (k, a) =>
            {
                k.ReduceForward(kind, a[0]!, a[1]!, outer, size, inner, 0.5f);
                k.ReduceBackward(kind, a[3]!, a[2]!, a[1]!, a[0]!, outer, size, inner, 0.5f);
            }, 3);
        }
        if (size == 0) return;
        var withNaN = tied.ToArray();
        for (int i = 2; i < withNaN.Length; i += 37) withNaN[i] = float.NaN;
        foreach (bool max in new[] { true, false })
        foreach (bool last in new[] { false, true })
        {
            Tensor?[] args = [Tensor.Zeros(outer, inner), Host(withNaN, outer, size, inner)];
            Agree($"arg-reduce max={max} last={last} [{outer}, {size}, {inner}]", 0, args, (k, a) => k.ArgReduce(a[0]!, a[1]!, outer, size, inner, max, last), 0);
            Agree($"reduce with NaN max={max} [{outer}, {size}, {inner}]", 0, args, (k, a) => k.ReduceForward(max ? ReduceKind.Max : ReduceKind.Min, a[0]!, a[1]!, outer, size, inner, 1f), 0);
        }
    }

    [Fact]
    public void Select_ForwardAndBackward_MatchNaive()
    {
        var rng = new Random(21);
        float[] choices = [0, -0f, 1, float.NaN, -2];
        var condition = Host([.. Enumerable.Range(0, 4 * 33).Select(_ => choices[rng.Next(choices.Length)])], 4, 33);
        Tensor?[] args = [Tensor.Zeros(4, 33), condition, Random(rng, 4, 33), Random(rng, 4, 33), Random(rng, 4, 33), Random(rng, 4, 33), Random(rng, 4, 33)];
        Agree("select forward", 0, args, (k, a) => k.SelectForward(a[0]!, a[1]!, a[2]!, a[3]!), 0);
        Agree("select backward", 0, args, (k, a) => k.SelectBackward(a[4], a[5], a[6]!, a[1]!), 4, 5);
        Tensor?[] onlyB = [.. args[..4], null, args[5], args[6]];
        Agree("select backward, dA null", 0, onlyB, (k, a) => k.SelectBackward(a[4], a[5], a[6]!, a[1]!), 5);
    }
}

/// <summary>Runs <see cref="FunctionParityTests"/> on ILGPU's CPU accelerator.</summary>
public sealed class FunctionParityOnCpuAccelerator() : FunctionParityTests("ilgpu-cpu");
