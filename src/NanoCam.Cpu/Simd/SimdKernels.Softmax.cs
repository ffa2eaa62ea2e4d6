using System.Numerics.Tensors;

namespace NanoCam.Cpu.Simd;

// Softmax forward, y_c = exp(x_c − max_j x_j) / Σ_j exp(x_j − max_j x_j) per (outer, inner) position: the shifted
// logits of every row written first, then one vectorized exp over the whole output (attention's rows of 17 are too short
// for a vector pass each), then each row divided by its sum. With classes on the last axis (inner = 1) a row is
// contiguous; otherwise each class is a contiguous run over inner, and max and sum are taken run by run.

public sealed partial class SimdKernels
{
    // Running max and sum over the classes, one per inner position (inner > 1); grown once, then reused.
    private float[] _softmaxScratch = [];

    public void SoftmaxForward(Tensor output, Tensor input, int outer, int classes, int inner)
    {
        Check.SameSize(output, input, "softmax");
        if ((long)outer * classes * inner != output.Size) throw new ArgumentException($"softmax: {outer}×{classes}×{inner} does not cover {output.Shape}");
        if (output.Size == 0) return;
        var y = output.Span;
        var x = input.Span;
        int block = classes * inner;
        if (inner == 1)
        {
            // Rows are short (attention's 17): plain loops, the sum in the naive kernel's order.
            for (int o = 0; o < outer; o++)
            {
                var row = x.Slice(o * classes, classes);
                var shifted = y.Slice(o * classes, classes);
                float max = row[0];
                for (int c = 1; c < row.Length; c++) max = Math.Max(max, row[c]);
                for (int c = 0; c < row.Length; c++) shifted[c] = row[c] - max;
            }
            TensorPrimitives.Exp(y, y);
            for (int o = 0; o < outer; o++)
            {
                var row = y.Slice(o * classes, classes);
                float sum = 0;
                for (int c = 0; c < row.Length; c++) sum += row[c];
                for (int c = 0; c < row.Length; c++) row[c] /= sum;
            }
            return;
        }
        if (_softmaxScratch.Length < inner) _softmaxScratch = new float[inner];
        var running = _softmaxScratch.AsSpan(0, inner);
        for (int o = 0; o < outer; o++)
        {
            x.Slice(o * block, inner).CopyTo(running);
            for (int c = 1; c < classes; c++) TensorPrimitives.Max(running, x.Slice(o * block + c * inner, inner), running);
            for (int c = 0; c < classes; c++) TensorPrimitives.Subtract(x.Slice(o * block + c * inner, inner), running, y.Slice(o * block + c * inner, inner));
        }
        TensorPrimitives.Exp(y, y);
        for (int o = 0; o < outer; o++)
        {
            y.Slice(o * block, inner).CopyTo(running);
            for (int c = 1; c < classes; c++) TensorPrimitives.Add(running, y.Slice(o * block + c * inner, inner), running);
            for (int c = 0; c < classes; c++)
            {
                var run = y.Slice(o * block + c * inner, inner);
                TensorPrimitives.Divide(run, running, run);
            }
        }
    }
}
