using NanoCam.Autodiff;

namespace NanoCam.Core.Tests;

/// <summary>
/// Finite-difference check of a whole recorded computation: L = Σ f(inputs) ∘ R for a fixed random R,
/// analytic ∂L/∂x from the tape against (L(x + h) − L(x − h)) / 2h for every element of every checked input.
/// </summary>
internal static class TapeGradientCheck
{
    public static Tensor Random(Random rng, params int[] dims)
    {
        var t = Tensor.Zeros(dims);
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = (float)(rng.NextDouble() * 2 - 1);
        return t;
    }

    /// <summary>Asserts the tape's gradient of each tensor in <paramref name="checkedInputs"/> matches central differences.</summary>
    public static void Check(IKernels kernels, Func<Tape, Tensor> forward, Tensor[] checkedInputs, float h = 1e-2f, float tolerance = 2e-3f, int seed = 7)
    {
        foreach (var x in checkedInputs) x.RequiresGrad = true;
        var tape = new Tape(kernels);
        var output = forward(tape);
        var weights = Random(new Random(seed), output.Shape.ToArray());
        var loss = Objective(tape, output, weights);
        tape.Backward(loss);
        var analytic = checkedInputs.Select(x => x.Grad!.ToArray()).ToArray();

        for (int t = 0; t < checkedInputs.Length; t++)
        {
            var x = checkedInputs[t].Span;
            for (int i = 0; i < x.Length; i++)
            {
                float saved = x[i];
                x[i] = saved + h;
                double plus = Evaluate(kernels, forward, weights);
                x[i] = saved - h;
                double minus = Evaluate(kernels, forward, weights);
                x[i] = saved;
                double numeric = (plus - minus) / (2 * h);
                double error = Math.Abs(numeric - analytic[t][i]);
                Assert.True(error <= tolerance * (1 + Math.Abs(numeric)),
                    $"input {t} element {i}: analytic {analytic[t][i]:G6}, finite difference {numeric:G6}");
            }
        }
    }

    private static Tensor Objective(Tape tape, Tensor output, Tensor weights) =>
        Ops.TapeOps.Sum(tape, Ops.TapeOps.Mul(tape, output, weights));

    private static double Evaluate(IKernels kernels, Func<Tape, Tensor> forward, Tensor weights)
    {
        var tape = new Tape(kernels) { GradEnabled = false };
        var output = forward(tape).ToArray();
        var w = weights.ToArray();
        double sum = 0;
        for (int i = 0; i < output.Length; i++) sum += (double)output[i] * w[i];
        return sum;
    }
}
