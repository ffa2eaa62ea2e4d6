using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using NanoCam.Cpu.Threading;

namespace NanoCam.Cpu.Simd;

public sealed unsafe partial class SimdKernels : ILayerNormKernels
{
    private readonly LayerNormJob _layerNormJob = new();

    public void LayerNormForward(Tensor output, Tensor input, Tensor scale, Tensor? bias, int size, float epsilon)
    {
        Check.SameSize(output, input, "layer-norm");
        if (size <= 0 || input.Size % size != 0 || scale.Size != size || bias is not null && bias.Size != size)
            throw new ArgumentException($"layer-norm: rows of {size} do not fit the input {input.Shape}, scale {scale.Shape} and bias {bias?.Shape}");
        int rows = input.Size / size;
        if (rows == 0) return;
        fixed (float* y = output.Data, x = input.Data, g = scale.Data, b = bias is null ? null : bias.Data)
        {
            var job = _layerNormJob;
            job.Y = y;
            job.X = x;
            job.Gamma = g;
            job.Beta = b;
            (job.Rows, job.Size, job.Epsilon) = (rows, size, epsilon);
            job.Tasks = TasksFor(input.Size, rows);
            _pool.For(job.Tasks, job);
        }
    }

    /// <summary>
    /// Rows [t·R/T, (t+1)·R/T) of a layer normalization, two passes over each row's input (in L1 by then) and one over
    /// its output: μ = Σx/n; σ² = Σ(x − μ)²/n (no cancellation, as the composed ops); y = (x − μ)·(γ·s) + β, s = 1/√(σ² + ε).
    /// Sums run in sixteen lanes with a scalar tail, in the same order at any thread count.
    /// </summary>
    private sealed class LayerNormJob : IParallelBody
    {
        public float* Y, X, Gamma, Beta;
        public int Rows, Size, Tasks;
        public float Epsilon;

        /// <summary>Rows up to this long run through <see cref="ShortRows"/>: the row in four registers at most.</summary>
        private const int ShortRow = 64;

        public void Execute(int task)
        {
            int first = (int)((long)Rows * task / Tasks), end = (int)((long)Rows * (task + 1) / Tasks), n = Size;
            if (n <= ShortRow && Avx512F.IsSupported)
            {
                ShortRows(first, end);
                return;
            }
            for (int row = first; row < end; row++)
            {
                float* x = X + (long)row * n, y = Y + (long)row * n;
                int j = 0;
                var acc = Vector512<float>.Zero;
                for (; j + 16 <= n; j += 16) acc += Vector512.Load(x + j);
                float sum = Vector512.Sum(acc);
                for (; j < n; j++) sum += x[j];
                float mean = sum / n;
                var m = Vector512.Create(mean);
                acc = Vector512<float>.Zero;
                for (j = 0; j + 16 <= n; j += 16)
                {
                    var d = Vector512.Load(x + j) - m;
                    acc = Vector512.FusedMultiplyAdd(d, d, acc);
                }
                float squares = Vector512.Sum(acc);
                for (; j < n; j++) squares += (x[j] - mean) * (x[j] - mean);
                float inv = 1f / MathF.Sqrt(squares / n + Epsilon);
                var s = Vector512.Create(inv);
                for (j = 0; j + 16 <= n; j += 16)
                {
                    var v = (Vector512.Load(x + j) - m) * (Vector512.Load(Gamma + j) * s);
                    if (Beta is not null) v += Vector512.Load(Beta + j);
                    v.Store(y + j);
                }
                for (; j < n; j++) y[j] = (x[j] - mean) * (Gamma[j] * inv) + (Beta is null ? 0f : Beta[j]);
            }
        }

        /// <summary>
        /// Rows of at most 64 (ConvNeXt's 24 and 48 channels, a ViT's 32): each row loaded once into up to four vectors,
        /// the last masked (zeros past the row, nothing written past it), γ and β held in registers for every row; the
        /// same three steps as the long rows (μ, then Σ(x − μ)², then the output), with no scalar tail.
        /// </summary>
        private void ShortRows(int first, int end)
        {
            int n = Size;
            var (k0, k1, k2, k3) = (Lanes(n), Lanes(n - 16), Lanes(n - 32), Lanes(n - 48));
            var zero = Vector512<float>.Zero;
            var g0 = Avx512F.MaskLoad(Gamma, k0, zero);
            var g1 = n > 16 ? Avx512F.MaskLoad(Gamma + 16, k1, zero) : zero;
            var g2 = n > 32 ? Avx512F.MaskLoad(Gamma + 32, k2, zero) : zero;
            var g3 = n > 48 ? Avx512F.MaskLoad(Gamma + 48, k3, zero) : zero;
            bool bias = Beta is not null;
            var b0 = bias ? Avx512F.MaskLoad(Beta, k0, zero) : zero;
            var b1 = bias && n > 16 ? Avx512F.MaskLoad(Beta + 16, k1, zero) : zero;
            var b2 = bias && n > 32 ? Avx512F.MaskLoad(Beta + 32, k2, zero) : zero;
            var b3 = bias && n > 48 ? Avx512F.MaskLoad(Beta + 48, k3, zero) : zero;
            float inverseN = 1f / n;
            for (int row = first; row < end; row++)
            {
                float* x = X + (long)row * n, y = Y + (long)row * n;
                var x0 = Avx512F.MaskLoad(x, k0, zero);
                var x1 = n > 16 ? Avx512F.MaskLoad(x + 16, k1, zero) : zero;
                var x2 = n > 32 ? Avx512F.MaskLoad(x + 32, k2, zero) : zero;
                var x3 = n > 48 ? Avx512F.MaskLoad(x + 48, k3, zero) : zero;
                float mean = Vector512.Sum(x0 + x1 + (x2 + x3)) / n;
                var m = Vector512.Create(mean);
                // Centred values, zero past the row's end.
                var d0 = (x0 - m) & k0;
                var d1 = (x1 - m) & k1;
                var d2 = (x2 - m) & k2;
                var d3 = (x3 - m) & k3;
                var squares = Vector512.FusedMultiplyAdd(d0, d0, Vector512.FusedMultiplyAdd(d1, d1, Vector512.FusedMultiplyAdd(d2, d2, d3 * d3)));
                var s = Vector512.Create(1f / MathF.Sqrt(Vector512.Sum(squares) * inverseN + Epsilon));
                Avx512F.MaskStore(y, k0, d0 * (g0 * s) + b0);
                if (n > 16) Avx512F.MaskStore(y + 16, k1, d1 * (g1 * s) + b1);
                if (n > 32) Avx512F.MaskStore(y + 32, k2, d2 * (g2 * s) + b2);
                if (n > 48) Avx512F.MaskStore(y + 48, k3, d3 * (g3 * s) + b3);
            }
        }

        /// <summary>Lanes [0, count) set (all for 16 or more, none for 0 or fewer), as float bit masks.</summary>
        internal static Vector512<float> Lanes(int count) =>
            Vector512.LessThan(Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), Vector512.Create(count)).AsSingle();
    }
}
