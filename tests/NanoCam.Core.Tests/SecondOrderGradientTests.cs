using NanoCam.Autodiff;
using NanoCam.Ops;
using Xunit.Abstractions;

namespace NanoCam.Core.Tests;

/// <summary>
/// Gradients of gradients (Tape.Grad with createGraph) against central finite differences of first-order gradients,
/// op by op, and a Hessian-vector product of a small CNN against differences of its gradient; on every CPU backend.
/// </summary>
public sealed class SecondOrderGradientTests(ITestOutputHelper output)
{
    public static TheoryData<string> Backends => TestBackends.Names;

    private static Tensor R(int seed, params int[] dims) => TapeGradientCheck.Random(new Random(seed), dims);

    /// <summary>Distinct values spaced 0.05 apart (shuffled): no max-pool near-ties and no ReLU kink within h = 1e-3.</summary>
    private static Tensor Distinct(int seed, params int[] dims)
    {
        var t = Tensor.Zeros(dims);
        var values = Enumerable.Range(0, t.Size).Select(i => (i - t.Size / 2) * 0.05f + 0.025f).ToArray();
        new Random(seed).Shuffle(values);
        values.CopyTo(t.Span);
        return t;
    }

    private void Report(string what, string backend, double error) =>
        output.WriteLine($"{what} [{backend}]: max relative error of ∂s/∂θ {error:E2}");

    [Theory]
    [MemberData(nameof(Backends))]
    public void Conv2d_GradOfGrad_MatchesFiniteDifferences(string backend)
    {
        var k = TestBackends.Get(backend);
        foreach (var (stride, padding) in new[] { (1, 1), (2, 0) })
        {
            var x = R(1, 2, 2, 5, 5);
            var w = R(2, 3, 2, 3, 3);
            var b = R(3, 3);
            double error = SecondOrderCheck.Check(k, t => SecondOrderCheck.WeightedSquare(t, t.Conv2d(x, w, b, stride, padding)), [x, w, b], [x, w, b]);
            Report($"conv2d stride {stride} pad {padding}", backend, error);
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Linear_GradOfGrad_MatchesFiniteDifferences_WithEveryTranspose(string backend)
    {
        var k = TestBackends.Get(backend);
        // A linear layer: x·Wᵀ + b.
        var x = R(4, 3, 5);
        var w = R(5, 4, 5);
        var bias = R(6, 4);
        double error = SecondOrderCheck.Check(k, t => SecondOrderCheck.WeightedSquare(t, t.Add(t.MatMul(x, w, transposeB: true), bias)), [x, w, bias], [x, w, bias]);
        Report("linear", backend, error);
        foreach (var (ta, tb) in new[] { (false, false), (true, false), (true, true) })
        {
            var a = ta ? R(7, 5, 3) : R(7, 3, 5);
            var c = tb ? R(8, 4, 5) : R(8, 5, 4);
            error = SecondOrderCheck.Check(k, t => SecondOrderCheck.WeightedSquare(t, t.MatMul(a, c, ta, tb, alpha: 0.5f)), [a, c], [a, c]);
            Report($"matmul transposeA {ta} transposeB {tb}", backend, error);
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Relu_GradOfGrad_IsZeroInTheInput_ButNotThroughTheWeights(string backend)
    {
        var k = TestBackends.Get(backend);
        // L = Σ r ⊙ (ReLU(x W1ᵀ) W2ᵀ): piecewise linear in x, so ∂/∂x of ∂L/∂x is 0, while it moves with W1 and W2.
        var x = R(9, 3, 4);
        var w1 = R(10, 6, 4);
        var w2 = R(11, 2, 6);
        var r = R(12, 3, 2);
        Tensor Loss(Tape t) => t.Sum(t.Mul(t.MatMul(t.Relu(t.MatMul(x, w1, transposeB: true)), w2, transposeB: true), r));
        double error = SecondOrderCheck.Check(k, Loss, [x], [x, w1, w2]);
        Report("relu", backend, error);

        var tape = new Tape(k);
        var ds = tape.Grad(tape.Sum(tape.Mul(tape.Grad(Loss(tape), [x], createGraph: true)[0], R(13, 3, 4))), [x, w1]);
        Assert.All(ds[0].ToArray(), v => Assert.Equal(0f, v));
        Assert.Contains(ds[1].ToArray(), v => MathF.Abs(v) > 1e-3f);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void MaxPool_GradOfGrad_MatchesFiniteDifferences(string backend)
    {
        var k = TestBackends.Get(backend);
        foreach (var (kernel, stride, padding) in new[] { (2, 2, 0), (3, 1, 1) })
        {
            var x = Distinct(14, 2, 2, 5, 5);
            var w = R(15, 2);
            // A 1×1 convolution before the pool, so that the chain reaches a weight through the argmax routing.
            double error = SecondOrderCheck.Check(k, t => SecondOrderCheck.WeightedSquare(t, t.MaxPool2d(t.Mul(x, t.Reshape(w, [1, 2, 1, 1])), kernel, stride, padding)), [x], [x, w]);
            Report($"max pool {kernel}/{stride}/{padding}", backend, error);
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void AvgPoolAndGap_GradOfGrad_MatchesFiniteDifferences(string backend)
    {
        var k = TestBackends.Get(backend);
        var x = R(16, 2, 3, 5, 6);
        foreach (bool countIncludePad in new[] { true, false })
        {
            double error = SecondOrderCheck.Check(k, t => SecondOrderCheck.WeightedSquare(t, t.AvgPool2d(x, 3, 2, 1, countIncludePad: countIncludePad)), [x], [x]);
            Report($"avg pool 3/2/1 countIncludePad {countIncludePad}", backend, error);
        }
        foreach (bool keepSpatial in new[] { true, false })
        {
            double error = SecondOrderCheck.Check(k, t => SecondOrderCheck.WeightedSquare(t, t.GlobalAvgPool(x, keepSpatial)), [x], [x]);
            Report($"global average pool keepSpatial {keepSpatial}", backend, error);
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void BatchNorm_GradOfGrad_MatchesFiniteDifferences_InTrainingAndInference(string backend)
    {
        var k = TestBackends.Get(backend);
        var x = R(17, 3, 2, 3, 3);
        var gamma = R(18, 2);
        var beta = R(19, 2);
        foreach (bool training in new[] { true, false })
        {
            var runningMean = R(20, 2);
            var runningVar = Tensor.FromArray([0.7f, 1.3f], 2);
            // Inference reads the running statistics, training the batch's; training updates the running ones, unread here.
            double error = SecondOrderCheck.Check(k,
                t => SecondOrderCheck.WeightedSquare(t, t.BatchNorm(x, gamma, beta, runningMean, runningVar, training, momentum: training ? 0.1f : 0f)),
                [x, gamma, beta], [x, gamma, beta], h: 1e-3f, tolerance: 2e-2);
            Report($"batch norm training {training}", backend, error);
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void SoftmaxAndCrossEntropy_GradOfGrad_MatchesFiniteDifferences(string backend)
    {
        var k = TestBackends.Get(backend);
        var x = R(21, 3, 4, 2);
        var r = R(22, 3, 4, 2);
        foreach (bool log in new[] { false, true })
        {
            double error = SecondOrderCheck.Check(k, t => t.Sum(t.Mul(log ? t.LogSoftmax(x, axis: 1) : t.Softmax(x, axis: 1), r)), [x], [x]);
            Report(log ? "log-softmax" : "softmax", backend, error);
        }
        var features = R(23, 4, 5);
        var w = R(24, 3, 5);
        var labels = Tensor.FromArray([0f, 2f, 1f, 2f], 4);
        double ce = SecondOrderCheck.Check(k, t => t.CrossEntropy(t.MatMul(features, w, transposeB: true), labels), [features, w], [features, w]);
        Report("cross-entropy", backend, ce);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void BinaryAndElementwise_GradOfGrad_MatchesFiniteDifferences_WithBroadcasting(string backend)
    {
        var k = TestBackends.Get(backend);
        var a = R(60, 2, 3, 4);
        var b = R(61, 3, 1);
        var positive = Tensor.FromArray(R(62, 3, 4).ToArray().Select(v => 0.5f + MathF.Abs(v)).ToArray(), 3, 4);
        foreach (var op in new[] { BinaryOp.Add, BinaryOp.Sub, BinaryOp.Mul, BinaryOp.Div })
        {
            var divisor = op == BinaryOp.Div ? Tensor.FromArray(b.ToArray().Select(v => 0.5f + MathF.Abs(v)).ToArray(), 3, 1) : b;
            double error = SecondOrderCheck.Check(k, t => SecondOrderCheck.WeightedSquare(t, t.Binary(op, a, divisor)), [a, divisor], [a, divisor]);
            Report($"binary {op} broadcasting [3,1] over [2,3,4]", backend, error);
        }
        // y = log(x)·exp(x)/2 + sqrt(x) + x^1.5 − x² + (x + 1) on x > 0: every taped element-wise rule in one sum.
        double unary = SecondOrderCheck.Check(k, t =>
        {
            var x = positive;
            var y = t.Mul(t.Unary(x, new Elementwise.Log()), t.Unary(t.Unary(x, new Elementwise.Exp()), new Elementwise.Scale(0.5f)));
            y = t.Add(y, t.Unary(x, new Elementwise.Sqrt()));
            y = t.Add(y, t.Unary(x, new Elementwise.PowScalar(1.5f)));
            y = t.Add(y, t.Unary(t.Unary(x, new Elementwise.Square()), new Elementwise.Neg()));
            y = t.Add(y, t.Unary(x, new Elementwise.Shift(1f)));
            return t.Sum(t.Mul(y, R(63, 3, 4)));
        }, [positive], [positive]);
        Report("element-wise log, exp, scale, sqrt, pow, square, neg, shift", backend, unary);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void SigmoidLeakyReluAndIdentity_GradOfGrad_MatchesFiniteDifferences(string backend)
    {
        var k = TestBackends.Get(backend);
        var x = Distinct(70, 2, 3, 4);
        var w = R(71, 2, 3, 4);
        foreach (var kind in new[] { Activation.Sigmoid, Activation.LeakyRelu, Activation.Identity })
        {
            // s = Σ (w ⊙ f(x))²: its gradient in x carries f'(x) and its second derivative f''(x) (sigmoid's is not 0).
            double error = SecondOrderCheck.Check(k,
                t => SecondOrderCheck.WeightedSquare(t, t.Mul(w, t.Activation(kind, x, new ActivationParams(Alpha: 0.1f)))), [x, w], [x, w]);
            Report($"activation {kind}", backend, error);
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void HessianVectorProduct_OfSmallCnn_MatchesDifferencesOfTheGradient(string backend)
    {
        var k = TestBackends.Get(backend);
        // conv → ReLU → max pool → conv → GAP → linear → cross-entropy.
        var image = R(30, 2, 1, 8, 8);
        var labels = Tensor.FromArray([1f, 2f], 2);
        Tensor[] parameters = [R(31, 4, 1, 3, 3), R(32, 4), R(33, 5, 4, 3, 3), R(34, 5), R(35, 3, 5), R(36, 3)];
        foreach (var p in parameters) p.RequiresGrad = true;
        Tensor Loss(Tape t)
        {
            var h1 = t.MaxPool2d(t.Relu(t.Conv2d(image, parameters[0], parameters[1], padding: 1)), 2, 2);
            var h2 = t.GlobalAvgPool(t.Conv2d(h1, parameters[2], parameters[3], padding: 1), keepSpatial: false);
            return t.CrossEntropy(t.Add(t.MatMul(h2, parameters[4], transposeB: true), parameters[5]), labels);
        }
        var rng = new Random(37);
        var v = parameters.Select(p => TapeGradientCheck.Random(rng, p.Shape.ToArray())).ToArray();

        // Hv = ∂/∂θ ⟨v, ∇L(θ)⟩, from one taped gradient and one backward pass.
        var tape = new Tape(k);
        var grads = tape.Grad(Loss(tape), parameters, createGraph: true);
        Tensor s = tape.Sum(tape.Mul(grads[0], v[0]));
        for (int i = 1; i < grads.Length; i++) s = tape.Add(s, tape.Sum(tape.Mul(grads[i], v[i])));
        var hv = tape.Grad(s, parameters).Select(g => g.ToArray()).ToArray();

        // (∇L(θ + εv) − ∇L(θ − εv)) / 2ε.
        const float epsilon = 1e-3f;
        var plus = GradientAt(k, Loss, parameters, v, epsilon);
        var minus = GradientAt(k, Loss, parameters, v, -epsilon);
        double worst = 0, scale = 0;
        var numeric = new double[parameters.Length][];
        for (int p = 0; p < parameters.Length; p++)
        {
            numeric[p] = plus[p].Zip(minus[p], (a, b) => ((double)a - b) / (2 * epsilon)).ToArray();
            scale = Math.Max(scale, numeric[p].Max(Math.Abs));
        }
        for (int p = 0; p < parameters.Length; p++)
        for (int i = 0; i < hv[p].Length; i++)
        {
            double error = Math.Abs(hv[p][i] - numeric[p][i]) / scale;
            worst = Math.Max(worst, error);
            Assert.True(error <= 1e-2, $"parameter {p} element {i}: Hv {hv[p][i]:G6}, difference of gradients {numeric[p][i]:G6} (scale {scale:G3})");
        }
        Assert.True(scale > 1e-2, $"the Hessian-vector product is too small to check ({scale:G3})");
        Report("Hessian-vector product, small CNN", backend, worst);
    }

    private static float[][] GradientAt(IKernels k, Func<Tape, Tensor> loss, Tensor[] parameters, Tensor[] v, float step)
    {
        var saved = parameters.Select(p => p.ToArray()).ToArray();
        for (int p = 0; p < parameters.Length; p++)
        {
            var span = parameters[p].Span;
            var dir = v[p].Span;
            for (int i = 0; i < span.Length; i++) span[i] = saved[p][i] + step * dir[i];
        }
        var tape = new Tape(k);
        var grads = tape.Grad(loss(tape), parameters).Select(g => g.ToArray()).ToArray();
        for (int p = 0; p < parameters.Length; p++) saved[p].CopyTo(parameters[p].Span);
        return grads;
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Grad_WithoutCreateGraph_EqualsBackward_AndLeavesParameterGradientsAlone(string backend)
    {
        var k = TestBackends.Get(backend);
        var x = R(40, 2, 2, 5, 5);
        var w = new Tensor(new Shape(3, 2, 3, 3), R(41, 3, 2, 3, 3).Buffer) { IsParameter = true, RequiresGrad = true };
        x.RequiresGrad = true;
        Tensor Loss(Tape t) => SecondOrderCheck.WeightedSquare(t, t.MaxPool2d(t.Relu(t.Conv2d(x, w, null, padding: 1)), 2, 2));

        var reference = new Tape(k);
        reference.Backward(Loss(reference));
        var expectedX = x.Grad!.ToArray();
        var expectedW = w.Grad!.ToArray();

        var tape = new Tape(k);
        var grads = tape.Grad(Loss(tape), [x, w]);
        Assert.Equal(expectedX, grads[0].ToArray());
        Assert.Equal(expectedW, grads[1].ToArray());
        // The parameter's accumulated gradient (one backward so far) is as it was.
        Assert.Equal(expectedW, w.Grad!.ToArray());

        // The taped walk is an independent implementation of the same rules: equal up to rounding.
        var taped = new Tape(k);
        var tapedGrads = taped.Grad(Loss(taped), [x, w], createGraph: true);
        AssertClose(expectedX, tapedGrads[0].ToArray());
        AssertClose(expectedW, tapedGrads[1].ToArray());
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        float scale = expected.Max(MathF.Abs);
        for (int i = 0; i < expected.Length; i++) Assert.True(MathF.Abs(expected[i] - actual[i]) <= 1e-5f * (1 + scale), $"element {i}: {expected[i]} vs {actual[i]}");
    }

    public static TheoryData<string> TapedOps =>
        ["conv", "conv stride 2 (weight)", "linear", "relu", "sigmoid", "max pool", "average pool", "gap", "batch norm",
         "softmax", "cross-entropy", "reduce sum", "scalar × tensor"];

    /// <summary>
    /// A second-order pass (forward, Grad with createGraph, a loss of the gradient, Backward) repeated on one tape: after
    /// warm-up it allocates nothing, like a first-order pass — the taped nodes, their outputs, the walk's tables and the
    /// seed are all reused.
    /// </summary>
    [Theory]
    [MemberData(nameof(TapedOps))]
    public void SecondOrderPass_AllocatesNothing_AfterWarmUp(string op)
    {
        var k = new Cpu.Simd.SimdKernels(threads: 1);
        var x = Distinct(80, 2, 3, 6, 6);
        var w = R(81, 4, 3, 3, 3);
        var m = R(82, 4, 5);
        var wm = R(83, 5, 3);
        var gamma = R(84, 3);
        var beta = R(85, 3);
        var labels = Tensor.FromArray([0f, 2f, 1f, 2f], 4);
        var runningMean = Tensor.Zeros(3);
        var runningVar = Tensor.FromArray([1f, 1f, 1f], 3);
        foreach (var t in new[] { x, w, m, wm, gamma, beta }) t.RequiresGrad = true;
        (Func<Tape, Tensor> Loss, Tensor Input) c = op switch
        {
            "conv" => (t => t.Sum(t.Relu(t.Conv2d(x, w, null, 1, 1))), x),
            "conv stride 2 (weight)" => (t => t.Sum(t.Relu(t.Conv2d(x, w, null, 2, 1))), w),
            "linear" => (t => t.Sum(t.Sigmoid(t.MatMul(m, wm))), m),
            "relu" => (t => t.Sum(t.Mul(t.Relu(x), x)), x),
            "sigmoid" => (t => t.Sum(t.Sigmoid(x)), x),
            "max pool" => (t => t.Sum(t.Mul(t.MaxPool2d(x, 2, 2), t.MaxPool2d(x, 2, 2))), x),
            "average pool" => (t => t.Sum(t.Mul(t.AvgPool2d(x, 2, 2), t.AvgPool2d(x, 2, 2))), x),
            "gap" => (t => t.Sum(t.Mul(t.GlobalAvgPool(x), t.GlobalAvgPool(x))), x),
            "batch norm" => (t => t.Sum(t.Mul(t.BatchNorm(x, gamma, beta, runningMean, runningVar, training: true, momentum: 0f), x)), x),
            "softmax" => (t => t.Sum(t.Mul(t.Softmax(m), m)), m),
            "cross-entropy" => (t => t.CrossEntropy(m, labels), m),
            "reduce sum" => (t => t.Sum(t.Mul(t.Reduce(ReduceKind.Sum, x, [1], keepDims: true), x)), x),
            "scalar × tensor" => (t => t.Sum(t.Mul(t.Sum(x), x)), x),
            _ => throw new ArgumentException(op),
        };
        var tape = new Tape(k) { Training = true };
        void Pass()
        {
            tape.Reset();
            var loss = c.Loss(tape);
            var gradient = tape.Grad(loss, c.Input, createGraph: true);
            tape.Backward(tape.Sum(tape.Mul(gradient, gradient)));
        }
        for (int i = 0; i < 3; i++) Pass();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++) Pass();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Grad_WithCreateGraph_RefusesAnOpWithoutATapedRule_NamingIt()
    {
        var k = TestBackends.Get("naive");
        var x = R(50, 3);
        x.RequiresGrad = true;
        var tape = new Tape(k);
        var y = tape.Sum(tape.Clip(x, 0f, 6f));
        var error = Assert.Throws<NotSupportedException>(() => tape.Grad(y, [x], createGraph: true));
        Assert.Contains("Clip", error.Message);
    }
}
