using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Threading;

namespace NanoCam.Cpu.Simd;

public sealed unsafe partial class SimdKernels
{
    // Reductions over [outer, size, inner]. inner = 1 (the reduced elements are contiguous): one TensorPrimitives call
    // per row. inner > 1: the output row is the accumulator, and each of the size input rows is folded into it with one
    // vector call (Add, Max or Min); columns go in chunks that stay in L1. Max/min backward counts the ties sixteen
    // columns at a time in vector registers, then adds dy/ties where x equals y. Work units (rows, or row × column chunk)
    // split across the pool; every output element is computed by one unit, in the same order at any thread count.

    /// <summary>Columns per unit of a reduction with inner &gt; 1: an output chunk of 16 KiB stays in L1 while the rows fold into it.</summary>
    private const int ReduceColumns = 4096;

    private readonly ReduceJob _reduceJob = new();

    public void ReduceForward(ReduceKind kind, Tensor output, Tensor input, int outer, int size, int inner, float scale)
    {
        NaiveKernels.CheckReduce(output, input, outer, size, inner, "reduce");
        if (output.Size == 0) return;
        if (size == 0)
        {
            output.Span.Fill(kind == ReduceKind.Sum ? 0f : kind == ReduceKind.Max ? float.NegativeInfinity : float.PositiveInfinity);
            return;
        }
        fixed (float* y = output.Data, x = input.Data)
            RunReduce(ReducePass.Forward, kind, outer, size, inner, scale, y, x, null, null);
    }

    public void ReduceBackward(ReduceKind kind, Tensor dInput, Tensor dOutput, Tensor input, Tensor output, int outer, int size, int inner, float scale)
    {
        NaiveKernels.CheckReduce(dOutput, dInput, outer, size, inner, "reduce backward");
        if (dInput.Size == 0) return;
        fixed (float* dx = dInput.Data, dy = dOutput.Data, x = input.Data, y = output.Data)
            RunReduce(ReducePass.Backward, kind, outer, size, inner, scale, y, x, dy, dx);
    }

    public void ArgReduce(Tensor output, Tensor input, int outer, int size, int inner, bool max, bool selectLast)
    {
        NaiveKernels.CheckReduce(output, input, outer, size, inner, "arg-reduce");
        if (output.Size == 0) return;
        if (size == 0) throw new ArgumentException("arg-reduce: the reduced axis is empty");
        fixed (float* y = output.Data, x = input.Data)
            RunReduce(max ? ReducePass.ArgMax : ReducePass.ArgMin, ReduceKind.Sum, outer, size, inner, selectLast ? 1f : 0f, y, x, null, null);
    }

    private enum ReducePass { Forward, Backward, ArgMax, ArgMin }

    private void RunReduce(ReducePass pass, ReduceKind kind, int outer, int size, int inner, float scale, float* y, float* x, float* dy, float* dx)
    {
        var job = _reduceJob;
        (job.Pass, job.Kind, job.Outer, job.Size, job.Inner, job.Scale) = (pass, kind, outer, size, inner, scale);
        job.Y = y;
        job.X = x;
        job.DY = dy;
        job.DX = dx;
        job.Chunks = (inner + ReduceColumns - 1) / ReduceColumns;
        long units = (long)outer * job.Chunks;
        job.Tasks = _pool.TasksFor((long)outer * size * inner * CpuThreadPool.ElementWork, units);
        job.Units = (int)units;
        _pool.For(job.Tasks, job);
    }

    private sealed class ReduceJob : IParallelBody
    {
        public ReducePass Pass;
        public ReduceKind Kind;
        public int Outer, Size, Inner, Chunks, Units, Tasks;
        public float Scale;
        public float* Y, X, DY, DX;

        public void Execute(int task)
        {
            int u0 = (int)((long)Units * task / Tasks), u1 = (int)((long)Units * (task + 1) / Tasks);
            for (int u = u0; u < u1; u++)
            {
                int o = u / Chunks, chunk = u % Chunks;
                int c0 = chunk * ReduceColumns, c1 = Math.Min(Inner, c0 + ReduceColumns);
                switch (Pass)
                {
                    case ReducePass.Forward: Forward(o, c0, c1); break;
                    case ReducePass.Backward: Backward(o, c0, c1); break;
                    default: Arg(o, c0, c1, Pass == ReducePass.ArgMax, Scale != 0); break;
                }
            }
        }

        /// <summary>Input row j of block o, columns [c0, c1).</summary>
        private Span<float> Row(float* t, int o, int j, int c0, int c1) => new(t + ((long)o * Size + j) * Inner + c0, c1 - c0);

        private void Forward(int o, int c0, int c1)
        {
            if (Inner == 1)
            {
                var row = new ReadOnlySpan<float>(X + (long)o * Size, Size);
                Y[o] = Kind switch
                {
                    ReduceKind.Sum => Scale * TensorPrimitives.Sum(row),
                    ReduceKind.Max => TensorPrimitives.Max(row),
                    _ => TensorPrimitives.Min(row),
                };
                return;
            }
            var acc = new Span<float>(Y + (long)o * Inner + c0, c1 - c0);
            Row(X, o, 0, c0, c1).CopyTo(acc);
            for (int j = 1; j < Size; j++)
            {
                var row = Row(X, o, j, c0, c1);
                switch (Kind)
                {
                    case ReduceKind.Sum: TensorPrimitives.Add(acc, row, acc); break;
                    case ReduceKind.Max: TensorPrimitives.Max(acc, row, acc); break;
                    default: TensorPrimitives.Min(acc, row, acc); break;
                }
            }
            if (Kind == ReduceKind.Sum && Scale != 1f) TensorPrimitives.Multiply(acc, Scale, acc);
        }

        private void Backward(int o, int c0, int c1)
        {
            if (Kind == ReduceKind.Sum)
            {
                if (Inner == 1)
                {
                    var row = Row(DX, o, 0, 0, Size);
                    TensorPrimitives.Add(row, Scale * DY[o], row);
                    return;
                }
                var g = new ReadOnlySpan<float>(DY + (long)o * Inner + c0, c1 - c0);
                for (int j = 0; j < Size; j++)
                {
                    var row = Row(DX, o, j, c0, c1);
                    TensorPrimitives.MultiplyAdd(g, Scale, row, row);
                }
                return;
            }
            if (Inner == 1) TiesRow(o);
            else TiesColumns(o, c0, c1);
        }

        /// <summary>Max/min backward over one contiguous row: T = #{j : x_j = y}, then dx_j += dy/T where x_j = y.</summary>
        private void TiesRow(int o)
        {
            float* x = X + (long)o * Size, dx = DX + (long)o * Size;
            float extreme = Y[o];
            var ve = Vector512.Create(extreme);
            int ties = 0, j = 0;
            for (; j + 16 <= Size; j += 16) ties += System.Numerics.BitOperations.PopCount(Vector512.Equals(Vector512.Load(x + j), ve).ExtractMostSignificantBits());
            for (; j < Size; j++) if (x[j] == extreme) ties++;
            if (ties == 0) return;
            float share = DY[o] / ties;
            var vs = Vector512.Create(share);
            for (j = 0; j + 16 <= Size; j += 16)
            {
                var tie = Vector512.Equals(Vector512.Load(x + j), ve);
                var d = Vector512.Load(dx + j);
                Vector512.ConditionalSelect(tie, d + vs, d).Store(dx + j);
            }
            for (; j < Size; j++) if (x[j] == extreme) dx[j] += share;
        }

        /// <summary>Max/min backward for columns [c0, c1) of block o: per column the tie count, sixteen columns per vector.</summary>
        private void TiesColumns(int o, int c0, int c1)
        {
            long rowStride = Inner;
            int c = c0;
            for (; c + 16 <= c1; c += 16)
            {
                float* x = X + (long)o * Size * Inner + c, dx = DX + (long)o * Size * Inner + c;
                var extreme = Vector512.Load(Y + (long)o * Inner + c);
                var ties = Vector512<float>.Zero;
                for (int j = 0; j < Size; j++)
                    ties += Vector512.Equals(Vector512.Load(x + j * rowStride), extreme) & Vector512<float>.One;
                var share = Vector512.Load(DY + (long)o * Inner + c) / ties;   // ∞/NaN only in columns with no tie, never added
                for (int j = 0; j < Size; j++)
                {
                    var tie = Vector512.Equals(Vector512.Load(x + j * rowStride), extreme);
                    var d = Vector512.Load(dx + j * rowStride);
                    Vector512.ConditionalSelect(tie, d + share, d).Store(dx + j * rowStride);
                }
            }
            for (; c < c1; c++)
            {
                float* x = X + (long)o * Size * Inner + c, dx = DX + (long)o * Size * Inner + c;
                float extreme = Y[(long)o * Inner + c];
                int ties = 0;
                for (int j = 0; j < Size; j++) if (x[j * rowStride] == extreme) ties++;
                float share = DY[(long)o * Inner + c] / ties;
                for (int j = 0; j < Size; j++) if (x[j * rowStride] == extreme) dx[j * rowStride] += share;
            }
        }

        /// <summary>
        /// Arg-max/min: contiguous rows scan with the reference rule; with inner &gt; 1, sixteen columns at a time keep their
        /// best values and indices in vectors, replacing where the scalar rule (<see cref="NaiveKernels.Replaces"/>) would.
        /// </summary>
        private void Arg(int o, int c0, int c1, bool max, bool selectLast)
        {
            long rowStride = Inner;
            int c = c0;
            if (Inner > 1)
            {
                for (; c + 16 <= c1; c += 16)
                {
                    float* x = X + (long)o * Size * Inner + c;
                    var best = Vector512.Load(x);
                    var index = Vector512<float>.Zero;
                    for (int j = 1; j < Size; j++)
                    {
                        var v = Vector512.Load(x + j * rowStride);
                        var bestIsNaN = ~Vector512.Equals(best, best);
                        var vIsNaN = ~Vector512.Equals(v, v);
                        var better = max ? Vector512.GreaterThan(v, best) : Vector512.LessThan(v, best);
                        if (selectLast) better |= Vector512.Equals(v, best);
                        var replace = Vector512.AndNot(vIsNaN | better, bestIsNaN);
                        if (selectLast) replace |= bestIsNaN & vIsNaN;
                        best = Vector512.ConditionalSelect(replace, v, best);
                        index = Vector512.ConditionalSelect(replace, Vector512.Create((float)j), index);
                    }
                    index.Store(Y + (long)o * Inner + c);
                }
            }
            for (; c < c1; c++)
            {
                float* x = X + (long)o * Size * Inner + c;
                int bestIndex = 0;
                float bestValue = x[0];
                for (int j = 1; j < Size; j++)
                {
                    float v = x[j * rowStride];
                    if (NaiveKernels.Replaces(v, bestValue, max, selectLast)) (bestIndex, bestValue) = (j, v);
                }
                Y[(long)o * Inner + c] = bestIndex;
            }
        }
    }
}
