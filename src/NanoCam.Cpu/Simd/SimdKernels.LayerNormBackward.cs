using System.Runtime.Intrinsics;
using NanoCam.Cpu.Threading;

namespace NanoCam.Cpu.Simd;

// The backward of the one-kernel layer normalization (SimdKernels.LayerNorm.cs): one pass over rows for ∂L/∂x (each
// row's statistics recomputed from its input as the forward computes them, and kept), then, only when a parameter
// gradient is wanted, one pass over column blocks for ∂L/∂γ and ∂L/∂β, so no two tasks add into one element and every
// sum runs in the same order at any thread count. An explanation (no parameter gradients) runs the row pass alone.

public sealed unsafe partial class SimdKernels
{
    private readonly LayerNormBackwardJob _layerNormBackwardJob = new();

    public void LayerNormBackward(Tensor? dInput, Tensor? dScale, Tensor? dBias, Tensor dOutput, Tensor input, Tensor scale, int size, float epsilon)
    {
        Check.SameSize(dOutput, input, "layer-norm backward");
        if (dInput is not null) Check.SameSize(dInput, input, "layer-norm backward");
        if (size <= 0 || input.Size % size != 0 || scale.Size != size || dScale is not null && dScale.Size != size || dBias is not null && dBias.Size != size)
            throw new ArgumentException($"layer-norm backward: rows of {size} do not fit the input {input.Shape}, scale {scale.Shape} and the gradients {dScale?.Shape}, {dBias?.Shape}");
        int rows = input.Size / size;
        if (rows == 0 || dInput is null && dScale is null && dBias is null) return;
        var job = _layerNormBackwardJob;
        if (job.Statistics.Length < 2 * rows) job.Statistics = new float[2 * rows];
        fixed (float* dx = dInput is null ? null : dInput.Data, dg = dScale is null ? null : dScale.Data, db = dBias is null ? null : dBias.Data,
               dy = dOutput.Data, x = input.Data, g = scale.Data, stats = job.Statistics)
        {
            job.DX = dx;
            job.DGamma = dg;
            job.DBeta = db;
            job.DY = dy;
            job.X = x;
            job.Gamma = g;
            job.Stats = stats;
            (job.Rows, job.Size, job.Epsilon) = (rows, size, epsilon);
            job.OverColumns = false;
            job.Tasks = TasksFor(input.Size, rows);
            _pool.For(job.Tasks, job);
            if (dg is null && db is null) return;
            job.OverColumns = true;
            job.Tasks = TasksFor(input.Size, (size + 15) / 16);
            _pool.For(job.Tasks, job);
        }
    }

    /// <summary>
    /// μ = Σx/n and s = 1/√(Σ(x − μ)²/n + ε) of one row, sixteen lanes with a scalar tail, in the forward kernel's order
    /// (<see cref="LayerNormForward"/>), so x̂ here is the x̂ the forward scaled.
    /// </summary>
    private static (float Mean, float InvStdDev) LayerNormStatistics(float* x, int n, float epsilon)
    {
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
        return (mean, 1f / MathF.Sqrt(squares / n + epsilon));
    }

    /// <summary>
    /// Row pass (task t: rows [t·R/T, (t+1)·R/T)): the statistics, kept in Stats, and dx += s·(γg − a/n − x̂·b/n) with
    /// a = Σ γg and b = Σ γg·x̂ over the row. Column pass (task t: a range of 16-column blocks): for each row in order,
    /// dγ += g·x̂ and dβ += g.
    /// </summary>
    private sealed class LayerNormBackwardJob : IParallelBody
    {
        public float[] Statistics = [];
        public float* DX, DGamma, DBeta, DY, X, Gamma, Stats;
        public int Rows, Size, Tasks;
        public float Epsilon;
        public bool OverColumns;

        public void Execute(int task)
        {
            if (OverColumns) Columns(task);
            else RowsOf(task);
        }

        private void RowsOf(int task)
        {
            int first = (int)((long)Rows * task / Tasks), end = (int)((long)Rows * (task + 1) / Tasks), n = Size;
            for (int row = first; row < end; row++)
            {
                float* x = X + (long)row * n, dy = DY + (long)row * n;
                var (mean, inv) = LayerNormStatistics(x, n, Epsilon);
                Stats[2 * row] = mean;
                Stats[2 * row + 1] = inv;
                if (DX is null) continue;
                float* dx = DX + (long)row * n;
                var m = Vector512.Create(mean);
                var s = Vector512.Create(inv);
                var accA = Vector512<float>.Zero;
                var accB = Vector512<float>.Zero;
                int j = 0;
                for (; j + 16 <= n; j += 16)
                {
                    var gg = Vector512.Load(Gamma + j) * Vector512.Load(dy + j);
                    accA += gg;
                    accB = Vector512.FusedMultiplyAdd(gg, (Vector512.Load(x + j) - m) * s, accB);
                }
                float a = Vector512.Sum(accA), b = Vector512.Sum(accB);
                for (; j < n; j++)
                {
                    float gg = Gamma[j] * dy[j];
                    a += gg;
                    b += gg * ((x[j] - mean) * inv);
                }
                float meanA = a / n, meanB = b / n;
                var va = Vector512.Create(meanA);
                var vb = Vector512.Create(meanB);
                for (j = 0; j + 16 <= n; j += 16)
                {
                    var xhat = (Vector512.Load(x + j) - m) * s;
                    var gg = Vector512.Load(Gamma + j) * Vector512.Load(dy + j);
                    (Vector512.Load(dx + j) + s * (gg - va - xhat * vb)).Store(dx + j);
                }
                for (; j < n; j++)
                {
                    float xhat = (x[j] - mean) * inv;
                    dx[j] += inv * (Gamma[j] * dy[j] - meanA - xhat * meanB);
                }
            }
        }

        private void Columns(int task)
        {
            int blocks = (Size + 15) / 16, n = Size;
            int c0 = (int)((long)blocks * task / Tasks) * 16, c1 = Math.Min(n, (int)((long)blocks * (task + 1) / Tasks) * 16);
            for (int row = 0; row < Rows; row++)
            {
                float* x = X + (long)row * n, dy = DY + (long)row * n;
                float mean = Stats[2 * row], inv = Stats[2 * row + 1];
                var m = Vector512.Create(mean);
                var s = Vector512.Create(inv);
                int j = c0;
                for (; j + 16 <= c1; j += 16)
                {
                    var g = Vector512.Load(dy + j);
                    if (DGamma is not null) Vector512.FusedMultiplyAdd(g, (Vector512.Load(x + j) - m) * s, Vector512.Load(DGamma + j)).Store(DGamma + j);
                    if (DBeta is not null) (Vector512.Load(DBeta + j) + g).Store(DBeta + j);
                }
                for (; j < c1; j++)
                {
                    if (DGamma is not null) DGamma[j] += dy[j] * ((x[j] - mean) * inv);
                    if (DBeta is not null) DBeta[j] += dy[j];
                }
            }
        }
    }
}
