using NanoCam.Autodiff;
using NanoCam.Ops;

namespace NanoCam.Core.Tests;

/// <summary>
/// Finite-difference check of a gradient of a gradient. With s(θ) = Σ_i ⟨v_i, ∂L/∂x_i⟩ for fixed random v_i, the tape's
/// ∂s/∂θ (Grad with createGraph, then Backward from s) against central differences of s, where each s(θ ± h) comes from
/// an ordinary first-order backward pass on a fresh tape, summed in double.
/// </summary>
internal static class SecondOrderCheck
{
    /// <summary>
    /// Asserts ∂s/∂θ for every θ in <paramref name="checkedTensors"/>; <paramref name="loss"/> builds a scalar on a tape,
    /// <paramref name="gradientOf"/> are the x_i. Returns the largest |analytic − numeric| / max|numeric| over the checked tensors.
    /// </summary>
    public static double Check(IKernels kernels, Func<Tape, Tensor> loss, Tensor[] gradientOf, Tensor[] checkedTensors,
        float h = 1e-3f, double tolerance = 1e-2, int seed = 11)
    {
        foreach (var t in gradientOf.Concat(checkedTensors)) t.RequiresGrad = true;
        var rng = new Random(seed);
        var directions = gradientOf.Select(x => TapeGradientCheck.Random(rng, x.Shape.ToArray())).ToArray();

        var tape = new Tape(kernels) { Training = true };
        var l = loss(tape);
        var grads = tape.Grad(l, gradientOf, createGraph: true);
        Tensor s = tape.Sum(tape.Mul(grads[0], directions[0]));
        for (int i = 1; i < grads.Length; i++) s = tape.Add(s, tape.Sum(tape.Mul(grads[i], directions[i])));
        tape.Backward(s);
        var analytic = checkedTensors.Select(t => t.Grad!.ToArray()).ToArray();

        double worst = 0;
        for (int t = 0; t < checkedTensors.Length; t++)
        {
            var x = checkedTensors[t].Span;
            var numeric = new double[x.Length];
            for (int i = 0; i < x.Length; i++)
            {
                float saved = x[i];
                x[i] = saved + h;
                double plus = DirectionalGradient(kernels, loss, gradientOf, directions);
                x[i] = saved - h;
                double minus = DirectionalGradient(kernels, loss, gradientOf, directions);
                x[i] = saved;
                numeric[i] = (plus - minus) / (2.0 * h);
            }
            double scale = Math.Max(numeric.Max(Math.Abs), 1e-3);
            for (int i = 0; i < x.Length; i++)
            {
                double error = Math.Abs(analytic[t][i] - numeric[i]) / scale;
                worst = Math.Max(worst, error);
                Assert.True(error <= tolerance,
                    $"tensor {t} element {i}: analytic ∂s/∂θ {analytic[t][i]:G6}, finite difference {numeric[i]:G6} (scale {scale:G3})");
            }
        }
        return worst;
    }

    /// <summary>s = Σ_i ⟨v_i, ∂L/∂x_i⟩ from an ordinary backward pass on a fresh tape.</summary>
    public static double DirectionalGradient(IKernels kernels, Func<Tape, Tensor> loss, Tensor[] gradientOf, Tensor[] directions)
    {
        var tape = new Tape(kernels) { Training = true };
        var grads = tape.Grad(loss(tape), gradientOf);
        double sum = 0;
        for (int i = 0; i < grads.Length; i++)
        {
            var g = grads[i].ToArray();
            var v = directions[i].ToArray();
            for (int j = 0; j < g.Length; j++) sum += (double)g[j] * v[j];
        }
        return sum;
    }

    /// <summary>L = Σ r ⊙ y ⊙ y for a fixed random r: a scalar with curvature in y, so every op's second derivatives show.</summary>
    public static Tensor WeightedSquare(Tape tape, Tensor y, int seed = 5)
    {
        var r = TapeGradientCheck.Random(new Random(seed), y.Shape.ToArray());
        return tape.Sum(tape.Mul(tape.Mul(y, y), r));
    }
}
