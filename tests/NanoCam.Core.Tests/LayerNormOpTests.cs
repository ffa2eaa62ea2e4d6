using NanoCam.Autodiff;
using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;
using NanoCam.Ops;
using Xunit.Abstractions;

namespace NanoCam.Core.Tests;

/// <summary>
/// <see cref="TapeOps.LayerNorm"/>: one kernel forward and backward on the SIMD backend (<see cref="LayerNormNode"/>),
/// composed of tape ops on the naive one. Both against central differences (first and second order), and the one-kernel
/// path against the composed one value by value, at 1, 2 and 3 threads.
/// </summary>
public sealed class LayerNormOpTests(ITestOutputHelper output)
{
    public static TheoryData<string> Backends => TestBackends.Names;

    private static Tensor R(int seed, params int[] dims) => TapeGradientCheck.Random(new Random(seed), dims);

    /// <summary>Rows with a mean far from zero and unequal spreads, so μ and σ both matter.</summary>
    private static Tensor Rows(int seed, int rows, int size)
    {
        var x = R(seed, rows, size);
        var s = x.Span;
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < size; j++) s[r * size + j] = s[r * size + j] * (0.5f + r % 3) + 0.7f * (r % 4) - 1f;
        return x;
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void LayerNorm_Gradients_MatchFiniteDifferences(string backend)
    {
        var k = TestBackends.Get(backend);
        foreach (int size in new[] { 5, 16, 37 })
        {
            var x = Rows(1, 3, size);
            var scale = R(2, size);
            var bias = R(3, size);
            TapeGradientCheck.Check(k, t => t.LayerNorm(x, scale, bias, size, 1e-5f), [x, scale, bias]);
            var noBias = Rows(4, 2, size);
            TapeGradientCheck.Check(k, t => t.LayerNorm(noBias, scale, null, size, 1e-5f), [noBias, scale]);
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void LayerNorm_GradOfGrad_MatchesFiniteDifferences(string backend)
    {
        var k = TestBackends.Get(backend);
        var x = Rows(5, 3, 19);
        var scale = R(6, 19);
        var bias = R(7, 19);
        double error = SecondOrderCheck.Check(k, t => SecondOrderCheck.WeightedSquare(t, t.LayerNorm(x, scale, bias, 19, 1e-5f)), [x, scale, bias], [x, scale]);
        output.WriteLine($"LayerNorm [{backend}]: max relative error of ∂s/∂θ {error:E2}");
    }

    /// <summary>
    /// The one-kernel pass against the composed ops (the naive backend has no <see cref="ILayerNormKernels"/>): y, ∂L/∂x,
    /// ∂L/∂γ and ∂L/∂β within 2e-6 of the largest, on rows short and long (a vector body and a tail), with enough rows to
    /// split across threads; the same bits at every thread count; and with parameter gradients off (an explanation),
    /// γ and β get none.
    /// </summary>
    [Fact]
    public void OneKernelLayerNorm_MatchesTheComposedOps_AtEveryThreadCount()
    {
        foreach (var (rows, size) in new[] { (3, 7), (17, 32), (130, 48), (40, 197) })
        {
            var composed = Pass(NaiveKernels.Instance, rows, size, parameterGradients: true);
            float[][]? first = null;
            foreach (int threads in new[] { 1, 2, 3 })
            {
                using var simd = new SimdKernels(threads);
                var fused = Pass(simd, rows, size, parameterGradients: true);
                string[] names = ["y", "∂L/∂x", "∂L/∂γ", "∂L/∂β"];
                for (int i = 0; i < names.Length; i++)
                {
                    double scale = composed[i].Max(MathF.Abs), worst = composed[i].Zip(fused[i]).Max(p => Math.Abs(p.First - p.Second)) / scale;
                    Assert.True(worst <= 2e-6, $"{names[i]} of [{rows}, {size}] at {threads} threads: {worst:E2} of the largest from the composed ops");
                    if (first is not null) Assert.True(first[i].AsSpan().SequenceEqual(fused[i]), $"{names[i]} of [{rows}, {size}]: {threads} threads differ from 1");
                }
                first ??= fused;
                var explained = Pass(simd, rows, size, parameterGradients: false);
                Assert.True(explained[1].AsSpan().SequenceEqual(fused[1]), $"∂L/∂x of [{rows}, {size}] without parameter gradients");
                Assert.Null(explained[2]);
                Assert.Null(explained[3]);
            }
            output.WriteLine($"[{rows}, {size}]: one kernel within 2e-6 of the composed ops, bit for bit at 1, 2 and 3 threads");
        }
    }

    /// <summary>y = LayerNorm(x; γ, β) of [rows, size] on a fresh tape, seeded with a fixed random ∂L/∂y: y, ∂L/∂x, ∂L/∂γ, ∂L/∂β (null: none computed).</summary>
    private static float[][] Pass(IKernels kernels, int rows, int size, bool parameterGradients)
    {
        var x = Rows(11, rows, size);
        var scale = new Tensor(R(12, size).Shape, R(12, size).Buffer) { IsParameter = true, RequiresGrad = true };
        var bias = new Tensor(R(13, size).Shape, R(13, size).Buffer) { IsParameter = true, RequiresGrad = true };
        x.RequiresGrad = true;
        var tape = new Tape(kernels) { ParameterGradients = parameterGradients };
        var y = tape.LayerNorm(x, scale, bias, size, 1e-5f);
        Assert.Equal(kernels is ILayerNormKernels, tape.Nodes.Any(n => n is LayerNormNode));
        tape.Backward(y, R(14, rows, size));
        return [y.ToArray(), x.Grad!.ToArray(), scale.Grad?.ToArray()!, bias.Grad?.ToArray()!];
    }
}
