using System.Runtime.Intrinsics;
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

        public void Execute(int task)
        {
            int first = (int)((long)Rows * task / Tasks), end = (int)((long)Rows * (task + 1) / Tasks), n = Size;
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
    }
}
