using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NanoCam.Cpu.Simd;

// Softmax forward, y_c = exp(x_c − max_j x_j) / Σ_j exp(x_j − max_j x_j) per (outer, inner) position: the shifted
// logits of every row written first, then one vectorized exp over the whole output (attention's rows of 17 are too short
// for a vector pass each), then each row divided by its sum. With classes on the last axis (inner = 1) a row is
// contiguous; otherwise each class is a contiguous run over inner, and max and sum are taken run by run.

public sealed unsafe partial class SimdKernels
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
        if (inner == 1 && classes <= ShortSoftmaxRow && Avx512F.IsSupported)
        {
            fixed (float* py = y, px = x) ShortSoftmaxRows(py, px, outer, classes);
            return;
        }
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
    /// <summary>Rows up to this long run through <see cref="ShortSoftmaxRows"/>.</summary>
    private const int ShortSoftmaxRow = 64;

    /// <summary>
    /// Rows of at most 64 classes on the last axis (attention's 17): each row in up to four registers, the lanes past its
    /// end −∞ (so they add e^−∞ = 0 to the sum and are never stored); max, e^(x − max), the sum and the division without
    /// leaving the registers.
    /// </summary>
    private static void ShortSoftmaxRows(float* y, float* x, int rows, int classes)
    {
        var (k0, k1, k2, k3) = (LayerNormJob.Lanes(classes), LayerNormJob.Lanes(classes - 16), LayerNormJob.Lanes(classes - 32), LayerNormJob.Lanes(classes - 48));
        var low = Vector512.Create(float.NegativeInfinity);
        for (int r = 0; r < rows; r++)
        {
            float* row = x + (long)r * classes, output = y + (long)r * classes;
            var x0 = Avx512F.MaskLoad(row, k0, low);
            var x1 = classes > 16 ? Avx512F.MaskLoad(row + 16, k1, low) : low;
            var x2 = classes > 32 ? Avx512F.MaskLoad(row + 32, k2, low) : low;
            var x3 = classes > 48 ? Avx512F.MaskLoad(row + 48, k3, low) : low;
            var m = Vector512.Max(Vector512.Max(x0, x1), Vector512.Max(x2, x3));
            var m256 = Vector256.Max(m.GetLower(), m.GetUpper());
            var m128 = Vector128.Max(m256.GetLower(), m256.GetUpper());
            float max = MathF.Max(MathF.Max(m128[0], m128[1]), MathF.Max(m128[2], m128[3]));
            var shift = Vector512.Create(max);
            var e0 = Vector512.Exp(x0 - shift);
            var e1 = classes > 16 ? Vector512.Exp(x1 - shift) : Vector512<float>.Zero;
            var e2 = classes > 32 ? Vector512.Exp(x2 - shift) : Vector512<float>.Zero;
            var e3 = classes > 48 ? Vector512.Exp(x3 - shift) : Vector512<float>.Zero;
            var sum = Vector512.Create(Vector512.Sum(e0 + e1 + (e2 + e3)));
            Avx512F.MaskStore(output, k0, e0 / sum);
            if (classes > 16) Avx512F.MaskStore(output + 16, k1, e1 / sum);
            if (classes > 32) Avx512F.MaskStore(output + 32, k2, e2 / sum);
            if (classes > 48) Avx512F.MaskStore(output + 48, k3, e3 / sum);
        }
    }
}
