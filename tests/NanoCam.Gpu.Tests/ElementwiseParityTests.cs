namespace NanoCam.Gpu.Tests;

/// <summary>Storage ops, activations (with the guided and deconvnet ReLU backward rules) and broadcasting binary ops.</summary>
public abstract class ElementwiseParityTests(string device) : ParityTest(device)
{
    [Fact]
    public void FillCopyAddScaled_MatchNaive()
    {
        var rng = new Random(8);
        Tensor?[] args = [Random(rng, 5, 7), Random(rng, 35)];
        Agree("fill", 0, args, (k, a) => k.Fill(a[0]!, 2.5f), 0);
        Agree("copy", 0, args, (k, a) => k.Copy(a[0]!, a[1]!), 0);
        Agree("add-scaled", 1e-6f, args, (k, a) => k.AddScaled(a[0]!, a[1]!, -0.75f), 0);
    }

    [Theory]
    [InlineData(Activation.Relu)]
    [InlineData(Activation.LeakyRelu)]
    [InlineData(Activation.Sigmoid)]
    [InlineData(Activation.Clip)]
    [InlineData(Activation.Identity)]
    public void Activation_ForwardAndBackward_MatchNaive(Activation kind)
    {
        var rng = new Random((int)kind);
        var p = new ActivationParams(Alpha: 0.1f, Low: -0.5f, High: 0.25f);
        Tensor?[] args = [Random(rng, 3, 37), Random(rng, 3, 37), Random(rng, 3, 37), Random(rng, 3, 37)];
        Agree($"{kind} forward", 1e-6f, args, (k, a) => k.ActivationForward(kind, a[0]!, a[1]!, p), 0);
        // Backward reads the forward output (sigmoid: y(1 − y)), so both run forward first.
        Agree($"{kind} backward", 1e-6f, args, (k, a) =>
        {
            k.ActivationForward(kind, a[0]!, a[1]!, p);
            k.ActivationBackward(kind, a[2]!, a[3]!, a[1]!, a[0]!, p);
        }, 2);
    }

    [Theory]
    [InlineData(ReluBackwardRule.Standard)]
    [InlineData(ReluBackwardRule.Guided)]
    [InlineData(ReluBackwardRule.Deconvnet)]
    public void ReluBackward_EveryRule_MatchesNaive(ReluBackwardRule rule)
    {
        var rng = new Random(10 + (int)rule);
        Tensor?[] args = [Random(rng, 2, 3, 7, 5), Random(rng, 2, 3, 7, 5), Random(rng, 2, 3, 7, 5)];
        Agree($"relu backward {rule}", 1e-6f, args, (k, a) => k.ReluBackward(rule, a[0]!, a[1]!, a[2]!), 0);
    }

    public static TheoryData<int[], int[], int[]> BroadcastCases => new()
    {
        { [2, 3, 7, 5], [2, 3, 7, 5], [2, 3, 7, 5] },
        { [2, 3, 7, 5], [2, 3, 7, 5], [1, 3, 1, 1] },
        { [2, 3, 7, 5], [3, 1, 5], [2, 1, 7, 1] },
        { [4, 6], [6], [4, 1] },
        { [5], [], [5] },
    };

    [Theory]
    [MemberData(nameof(BroadcastCases))]
    public void Binary_EveryOpWithBroadcasting_ForwardAndBackward_MatchNaive(int[] output, int[] aShape, int[] bShape)
    {
        var rng = new Random(output.Sum());
        foreach (var op in Enum.GetValues<BinaryOp>())
        {
            var b = Random(rng, bShape);
            if (op == BinaryOp.Div) for (int i = 0; i < b.Size; i++) b.Span[i] = 0.5f + MathF.Abs(b.Span[i]); // keep away from 0
            Tensor?[] args = [Random(rng, output), Random(rng, aShape), b, Random(rng, aShape), Random(rng, bShape), Random(rng, output)];
            string shapes = $"[{string.Join(",", aShape)}] ∘ [{string.Join(",", bShape)}]";
            Agree($"{op} forward {shapes}", 1e-6f, args, (k, a) => k.BinaryForward(op, a[0]!, a[1]!, a[2]!), 0);
            Agree($"{op} backward {shapes}", 1e-5f, args, (k, a) => k.BinaryBackward(op, a[3], a[4], a[5]!, a[1]!, a[2]!), 3, 4);
            Tensor?[] onlyB = [args[0], args[1], args[2], null, args[4], args[5]];
            Agree($"{op} backward, dA null {shapes}", 1e-5f, onlyB, (k, a) => k.BinaryBackward(op, a[3], a[4], a[5]!, a[1]!, a[2]!), 4);
        }
    }
}

/// <summary>Runs <see cref="ElementwiseParityTests"/> on ILGPU's CPU accelerator.</summary>
public sealed class ElementwiseParityOnCpuAccelerator() : ElementwiseParityTests("ilgpu-cpu");
