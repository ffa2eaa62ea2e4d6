namespace NanoCam.Gpu.Tests;

/// <summary>Softmax, log-softmax (any axis) and cross-entropy with block reductions, including more classes than threads in a group.</summary>
public abstract class SoftmaxParityTests(string device) : ParityTest(device)
{
    [Theory]
    [InlineData(3, 10, 1)]
    [InlineData(2, 7, 5)]
    [InlineData(2, 300, 1)]
    [InlineData(1, 1, 3)]
    public void SoftmaxAndLogSoftmax_ForwardAndBackward_MatchNaive(int outer, int classes, int inner)
    {
        var rng = new Random(outer * 100 + classes + inner);
        int n = outer * classes * inner;
        var x = Random(rng, n);
        for (int i = 0; i < n; i++) x.Span[i] *= 8; // spread the logits so max subtraction matters
        Tensor?[] args = [Random(rng, n), x, Random(rng, n), Random(rng, n)];
        Agree($"softmax forward {outer}×{classes}×{inner}", 1e-6f, args, (k, a) => k.SoftmaxForward(a[0]!, a[1]!, outer, classes, inner), 0);
        Agree($"softmax backward {outer}×{classes}×{inner}", 1e-5f, args, (k, a) =>
        {
            k.SoftmaxForward(a[0]!, a[1]!, outer, classes, inner);
            k.SoftmaxBackward(a[2]!, a[3]!, a[0]!, outer, classes, inner);
        }, 2);
        Agree($"log-softmax forward {outer}×{classes}×{inner}", 1e-6f, args, (k, a) => k.LogSoftmaxForward(a[0]!, a[1]!, outer, classes, inner), 0);
        Agree($"log-softmax backward {outer}×{classes}×{inner}", 1e-5f, args, (k, a) =>
        {
            k.LogSoftmaxForward(a[0]!, a[1]!, outer, classes, inner);
            k.LogSoftmaxBackward(a[2]!, a[3]!, a[0]!, outer, classes, inner);
        }, 2);
    }

    [Theory]
    [InlineData(5, 3)]
    [InlineData(33, 10)]
    [InlineData(2, 200)]
    public void CrossEntropy_ForwardAndBackward_MatchNaive(int rows, int classes)
    {
        var rng = new Random(rows + classes);
        var labels = Tensor.Zeros(rows);
        for (int r = 0; r < rows; r++) labels.Span[r] = rng.Next(classes);
        Tensor?[] args = [Tensor.Zeros(1), Random(rng, rows, classes), Random(rng, rows, classes), labels, Random(rng, rows, classes), Host([0.7f], 1)];
        Agree($"cross-entropy forward {rows}×{classes}", 1e-6f, args, (k, a) => k.CrossEntropyForward(a[0]!, a[1]!, a[2]!, a[3]!, rows, classes), 0, 1);
        Agree($"cross-entropy backward {rows}×{classes}", 1e-6f, args, (k, a) =>
        {
            k.CrossEntropyForward(a[0]!, a[1]!, a[2]!, a[3]!, rows, classes);
            k.CrossEntropyBackward(a[4]!, a[5]!, a[1]!, a[3]!, rows, classes);
        }, 4);
    }

    [Fact]
    public void CrossEntropy_LabelOutOfRange_NamesTheRow()
    {
        var labels = Upload(Host([1, 3, 0], 3));
        var e = Assert.Throws<ArgumentException>(() =>
            Gpu.CrossEntropyForward(Gpu.Allocate(new Shape(1)), Gpu.Allocate(new Shape(3, 3)), Gpu.Allocate(new Shape(3, 3)), labels, 3, 3));
        Assert.Equal("cross-entropy: label 3 of row 1 is not a class index in [0, 3)", e.Message);
    }
}

/// <summary>Runs <see cref="SoftmaxParityTests"/> on ILGPU's CPU accelerator.</summary>
public sealed class SoftmaxParityOnCpuAccelerator() : SoftmaxParityTests("ilgpu-cpu");
