using NanoCam.Autodiff;
using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;
using NanoCam.Elementwise;
using NanoCam.Ops;

namespace NanoCam.Core.Tests;

public class TapeTests
{
    private readonly IKernels _kernels = new NaiveKernels();

    [Fact]
    public void SmallCnn_GradientsOfEveryInputAndParameter_MatchFiniteDifferences()
    {
        var rng = new Random(1);
        var image = TapeGradientCheck.Random(rng, 2, 2, 7, 6);
        var w1 = TapeGradientCheck.Random(rng, 3, 2, 3, 3);
        var b1 = TapeGradientCheck.Random(rng, 3);
        var w2 = TapeGradientCheck.Random(rng, 4, 3);
        var b2 = TapeGradientCheck.Random(rng, 4);
        Tensor Forward(Tape t)
        {
            var a = t.LeakyRelu(t.Conv2d(image, w1, b1, stride: 1, padding: 1), 0.1f);
            var p = t.AvgPool2d(a, 2, 2, ceilMode: true);
            var g = t.GlobalAvgPool(p, keepSpatial: false);
            return t.Add(t.MatMul(g, w2, transposeB: true), b2);
        }
        TapeGradientCheck.Check(_kernels, Forward, [image, w1, b1, w2, b2]);
    }

    [Fact]
    public void FrozenParameters_GetNoGradient_AndTheInputGradientIsUnchanged()
    {
        var rng = new Random(4);
        var image = TapeGradientCheck.Random(rng, 1, 2, 5, 5);
        Tensor Parameter(Tensor t) => new(t.Shape, t.Buffer) { IsParameter = true };
        var w1 = Parameter(TapeGradientCheck.Random(rng, 3, 2, 3, 3));
        var w2 = Parameter(TapeGradientCheck.Random(rng, 2, 3));
        float[] InputGradient(bool parameterGradients, out int differentiated)
        {
            var x = Tensor.FromArray(image.ToArray(), 1, 2, 5, 5);
            x.RequiresGrad = true;
            foreach (var p in new[] { w1, w2 }) { p.RequiresGrad = true; p.Grad = null; }
            var tape = new Tape(_kernels) { ParameterGradients = parameterGradients };
            var features = tape.Relu(tape.Conv2d(x, w1, null, padding: 1));
            var scores = tape.MatMul(tape.GlobalAvgPool(features, keepSpatial: false), w2, transposeB: true);
            tape.Backward(tape.Sum(scores));
            differentiated = tape.Nodes.Count(n => n.Output.RequiresGrad);
            return x.Grad!.ToArray();
        }
        var reference = InputGradient(parameterGradients: true, out int all);
        Assert.NotNull(w1.Grad);
        var frozen = InputGradient(parameterGradients: false, out int withFrozen);
        Assert.Null(w1.Grad); // never allocated: no ∂L/∂W was computed
        Assert.Null(w2.Grad);
        Assert.Equal(all, withFrozen); // every node still lies on the path from x
        Assert.Equal(reference, frozen);

        // With no input needing a gradient, a frozen network records nothing to differentiate.
        var tape = new Tape(_kernels) { ParameterGradients = false };
        var y = tape.Conv2d(image, w1, null, padding: 1);
        Assert.False(y.RequiresGrad);
    }

    [Fact]
    public void TensorUsedTwice_ReceivesTheSumOfBothGradients()
    {
        // y = x·x + x, so ∂Σy/∂x = 2x + 1 exactly.
        var x = Tensor.FromArray([1.5f, -2f, 0.25f], 3);
        x.RequiresGrad = true;
        var tape = new Tape(_kernels);
        var y = tape.Add(tape.Mul(x, x), x);
        tape.Backward(tape.Sum(y));
        Assert.Equal([4f, -3f, 1.5f], x.Grad!.ToArray());
    }

    [Fact]
    public void ResidualBranch_MatchesFiniteDifferences()
    {
        var rng = new Random(2);
        var x = TapeGradientCheck.Random(rng, 1, 2, 5, 5);
        var w = TapeGradientCheck.Random(rng, 2, 2, 3, 3);
        Tensor Forward(Tape t) => t.Sigmoid(t.Add(t.Conv2d(x, w, null, padding: 1), x));
        TapeGradientCheck.Check(_kernels, Forward, [x, w]);
    }

    [Fact]
    public void SoftmaxConcatReshapeBatchNorm_MatchFiniteDifferences()
    {
        var rng = new Random(3);
        var a = TapeGradientCheck.Random(rng, 2, 2, 3, 3);
        var b = TapeGradientCheck.Random(rng, 2, 1, 3, 3);
        var gamma = TapeGradientCheck.Random(rng, 3);
        var beta = TapeGradientCheck.Random(rng, 3);
        var mean = Tensor.Zeros(3);
        var variance = Tensor.FromArray([1f, 1f, 1f], 3);
        Tensor Forward(Tape t)
        {
            var c = t.Concat([a, b], axis: 1);
            var n = t.BatchNorm(c, gamma, beta, mean, variance, training: true, momentum: 0f);
            return t.Softmax(t.Reshape(n, [2, 27]), axis: 1);
        }
        TapeGradientCheck.Check(_kernels, Forward, [a, b, gamma, beta], tolerance: 5e-3f);
    }

    [Fact]
    public void NoGrad_RecordsNoGradientsAndRefusesBackward()
    {
        var x = Tensor.FromArray([1f, -1f], 2);
        x.RequiresGrad = true;
        var tape = new Tape(_kernels) { GradEnabled = false };
        var y = tape.Relu(x);
        Assert.False(y.RequiresGrad);
        Assert.Throws<InvalidOperationException>(() => tape.Backward(tape.Sum(y)));
    }

    [Fact]
    public void NamedTensor_ExposesActivationAndGradient_AndForwardHookCanEditIt()
    {
        var x = Tensor.FromArray([1f, 2f, 3f], 1, 3);
        var w = Tensor.FromArray([1f, 0f, 0f, 0f, 1f, 1f], 2, 3);
        var tape = new Tape(_kernels);
        tape.RequireGradient("hidden");
        tape.AddForwardHook("hidden", t => t.Span[0] = 10f); // hidden = [10, 2, 3]
        var hidden = tape.Publish(tape.Relu(x), "hidden");
        var logits = tape.MatMul(hidden, w, transposeB: true); // [10, 5]
        Assert.Equal([10f, 5f], logits.ToArray());
        // Seed ∂L/∂logits = one-hot(class 1): L = y^1 = h1 + h2, so ∂L/∂hidden = [0, 1, 1].
        tape.Backward(logits, Tensor.FromArray([0f, 1f], 1, 2));
        Assert.Equal([0f, 1f, 1f], tape.Find("hidden").Grad!.ToArray());
    }

    [Fact]
    public void GuidedReluOverride_ZeroesNegativeGradients()
    {
        var x = Tensor.FromArray([1f, -1f, 2f, 3f], 4);
        x.RequiresGrad = true;
        var tape = new Tape(_kernels);
        tape.OverrideBackward("Relu", ActivationNode.ReluRule(ReluBackwardRule.Guided));
        var y = tape.Relu(x);
        tape.Backward(y, Tensor.FromArray([1f, 1f, -1f, 2f], 4));
        // Guided: pass dy only where x > 0 and dy > 0.
        Assert.Equal([1f, 0f, 0f, 2f], x.Grad!.ToArray());
    }

    /// <summary>
    /// Backward defers zeroing intermediate gradients, and ReLU, max pooling and the input gradient of a convolution
    /// write the first gradient that reaches a buffer instead of adding it. On a reused tape (buffers holding last pass's
    /// gradients) a second pass must give exactly the gradients of a fresh tape, with a tensor read by two of those
    /// kernels (a ReLU output feeding a pool and a convolution) receiving the sum of both.
    /// </summary>
    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void ReusedTape_SecondBackward_EqualsAFreshTape(string backend)
    {
        var kernels = TestBackends.Get(backend);
        var rng = new Random(5);
        var w1 = TapeGradientCheck.Random(rng, 4, 2, 3, 3);
        var w2 = TapeGradientCheck.Random(rng, 3, 4, 3, 3);
        w1.RequiresGrad = w2.RequiresGrad = true;
        Tensor Loss(Tape t, Tensor image)
        {
            var a = t.Relu(t.Conv2d(image, w1, null, padding: 1));
            var pooled = t.MaxPool2d(a, 2, 2);
            var b = t.Relu(t.Conv2d(a, w2, null, padding: 1));
            return t.Add(t.Sum(t.Mul(pooled, pooled)), t.Sum(b));
        }
        float[] Gradient(Tape t, Tensor image)
        {
            t.Reset();
            w1.Grad = null;
            w2.Grad = null;
            t.Backward(Loss(t, image));
            return [.. image.Grad!.ToArray(), .. w1.Grad!.ToArray()];
        }
        var first = TapeGradientCheck.Random(rng, 2, 2, 6, 6);
        var second = TapeGradientCheck.Random(rng, 2, 2, 6, 6);
        first.RequiresGrad = second.RequiresGrad = true;
        var reused = new Tape(kernels);
        Gradient(reused, first);
        Assert.Equal(Gradient(new Tape(kernels), second), Gradient(reused, second));
    }

    [Fact]
    public void Reset_ReusesNodesAndBuffers()
    {
        var x = Tensor.FromArray([1f, -2f], 2);
        var tape = new Tape(_kernels);
        var first = tape.Relu(x);
        tape.Reset();
        var second = tape.Relu(x);
        Assert.Same(first, second);
        Assert.Equal(1, tape.Count);
    }
}

/// <summary>
/// A tape whose batch size changes keeps the buffers the new size replaced, so a size that comes back allocates no new
/// tensors; the spares never outgrow the largest pass; and a pass on recycled buffers equals a pass on a fresh tape.
/// </summary>
public class TapeSpareBufferTests
{
    private static readonly Tensor Bias = Tensor.FromArray([0.1f, -0.2f, 0.3f], 3, 1, 1);

    private static Tensor Forward(Tape tape, Tensor x)
    {
        tape.Reset();
        return tape.Binary(tape.Unary(x, new Gelu()), Bias, new Maximum());
    }

    [Fact]
    public void ABatchSizeThatComesBack_TakesItsBuffersFromTheSpares_AndAllocatesNoTensor()
    {
        using var kernels = new SimdKernels(threads: 1);
        var tape = new Tape(kernels) { GradEnabled = false };
        var full = TapeGradientCheck.Random(new Random(1), 16, 3, 32, 32);
        var last = TapeGradientCheck.Random(new Random(2), 5, 3, 32, 32);
        Forward(tape, full);
        Forward(tape, last);
        Forward(tape, full);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 4; i++)
        {
            Forward(tape, last);
            Forward(tape, full);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // Without the spares every change of size allocates both outputs anew: 2 × (5 + 16) images × 12 KiB, 8 times.
        long smallestOutput = last.Size * sizeof(float);
        Assert.True(allocated < smallestOutput, $"8 changes of batch size allocated {allocated} bytes; one output of the small batch is {smallestOutput}");
    }

    [Fact]
    public void SparesOfManyBatchSizes_StayWithinTheLargestPass()
    {
        var tape = new Tape(new NaiveKernels()) { GradEnabled = false };
        long largest = 0;
        foreach (int batch in new[] { 9, 1, 7, 2, 8, 3, 6, 4, 5, 9, 1 })
        {
            Forward(tape, TapeGradientCheck.Random(new Random(batch), batch, 3, 8, 8));
            largest = Math.Max(largest, tape.TensorBytes);
        }
        tape.Reset();
        Assert.Equal(2L * 9 * 3 * 8 * 8 * sizeof(float), largest);
        Assert.InRange(tape.SpareBytes, 1, largest);
    }

    /// <summary>Recycled buffers hold another pass's values: outputs and gradients must be as on a fresh tape.</summary>
    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void PassesOfAlternatingBatchSizes_EqualPassesOnAFreshTape(string backend)
    {
        var kernels = TestBackends.Get(backend);
        var rng = new Random(7);
        var w = TapeGradientCheck.Random(rng, 4, 2, 3, 3);
        w.RequiresGrad = true;
        float[] Pass(Tape t, Tensor image)
        {
            t.Reset();
            w.Grad = null;
            var a = t.Relu(t.Conv2d(image, w, null, padding: 1));
            var loss = t.Sum(t.Mul(t.MaxPool2d(a, 2, 2), t.MaxPool2d(a, 2, 2)));
            t.Backward(loss);
            return [.. loss.ToArray(), .. image.Grad!.ToArray(), .. w.Grad!.ToArray()];
        }
        Tensor Image(int batch)
        {
            var x = TapeGradientCheck.Random(rng, batch, 2, 6, 6);
            x.RequiresGrad = true;
            return x;
        }
        var reused = new Tape(kernels);
        foreach (var image in new[] { Image(3), Image(1), Image(3), Image(2), Image(1), Image(3) })
            Assert.Equal(Pass(new Tape(kernels), image), Pass(reused, image));
    }
}
