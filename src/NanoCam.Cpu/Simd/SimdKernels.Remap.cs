using System.Numerics.Tensors;
using NanoCam.Cpu.Naive;
using System.Runtime.CompilerServices;
using NanoCam.Cpu.Threading;

namespace NanoCam.Cpu.Simd;

public sealed unsafe partial class SimdKernels
{
    // Forward runs the plan compiled once for this backend (RemapProgram: rows of block copies, blocked transposes,
    // repeats), kept beside the plan for as long as the plan lives. Backward remaps row by row over the coalesced plan
    // (RemapPlan.Coalesced: neighbouring axes that read one constant stride are one axis). A row's start in the input is
    // the sum of its outer coordinates' offsets (any −1: the whole row is the fill); its run then is a block add where
    // the last axis steps by 1 through contiguous input, a sum into one element where it steps by 0, or a scatter-add.
    // Forward always splits across the pool (each output is written once); backward only when the plan reads each
    // input element once (IsInjective); otherwise outputs that share an input would race, and it runs on one thread.

    private static readonly ConditionalWeakTable<RemapPlan, RemapProgram> Programs = [];
    private readonly RemapJob _remapJob = new();
    private readonly RemapForwardJob _remapForwardJob = new();

    public void RemapForward(Tensor output, Tensor input, RemapPlan plan)
    {
        NaiveKernels.CheckRemap(output, input, plan, "remap");
        if (plan.OutputSize == 0) return;
        var program = Programs.GetValue(plan, static p => new RemapProgram(p));
        fixed (float* y = output.Data, x = input.Data)
        {
            if (program.AllFilled)
            {
                new Span<float>(y, program.OutputSize).Fill(program.Fill);
                return;
            }
            var job = _remapForwardJob;
            job.Program = program;
            job.Y = y;
            job.X = x;
            int tasks = _pool.TasksFor((long)program.OutputSize * CpuThreadPool.ElementWork, program.OutputSize);
            int rows = program.OuterRows;
            // Units of work: rows, each cut along its split dimension when there are fewer rows than tasks.
            job.Chunks = rows >= tasks ? 1 : Math.Min((tasks + rows - 1) / rows, Math.Max(1, program.Primary / 8));
            job.Units = rows * job.Chunks;
            job.Tasks = Math.Min(tasks, job.Units);
            _pool.For(job.Tasks, job);
            job.Y = job.X = null;
        }
    }

    public void RemapBackward(Tensor dInput, Tensor dOutput, RemapPlan plan)
    {
        NaiveKernels.CheckRemap(dOutput, dInput, plan, "remap backward");
        if (plan.OutputSize == 0) return;
        fixed (float* dy = dOutput.Data, dx = dInput.Data)
            RunRemapBackward(plan, dy, dx, parallel: plan.IsInjective);
    }

    private void RunRemapBackward(RemapPlan plan, float* dy, float* dx, bool parallel)
    {
        var job = _remapJob;
        var p = plan.Coalesced();
        job.Plan = p;
        job.Y = dy;
        job.X = dx;
        job.Columns = p.Rank == 0 ? 1 : p.OutputDims[p.Rank - 1];
        job.Rows = p.OutputSize / job.Columns;
        int tasks = parallel ? _pool.TasksFor((long)p.OutputSize * CpuThreadPool.ElementWork, p.OutputSize) : 1;
        // Units of work: rows, each cut into chunks when there are fewer rows than tasks.
        job.Chunks = job.Rows >= tasks ? 1 : (tasks + job.Rows - 1) / job.Rows;
        job.Units = job.Rows * job.Chunks;
        job.Tasks = Math.Min(tasks, job.Units);
        _pool.For(job.Tasks, job);
    }

    private sealed class RemapJob : IParallelBody
    {
        public RemapPlan Plan = null!;
        public float* Y, X;
        public int Rows, Columns, Chunks, Units, Tasks;

        public void Execute(int task)
        {
            int u0 = (int)((long)Units * task / Tasks), u1 = (int)((long)Units * (task + 1) / Tasks);
            for (int u = u0; u < u1; u++)
            {
                int row = u / Chunks, chunk = u % Chunks;
                int j0 = (int)((long)Columns * chunk / Chunks), j1 = (int)((long)Columns * (chunk + 1) / Chunks);
                Row(row, j0, j1);
            }
        }

        private void Row(int row, int j0, int j1)
        {
            var p = Plan;
            int last = p.Rank - 1;
            float* y = Y + (long)row * Columns;
            // The row's input base: Σ over the outer axes of their offsets; −1 anywhere: a filled row, no gradient.
            int baseOffset = 0;
            for (int a = last - 1, r = row; a >= 0; a--)
            {
                int size = p.OutputDims[a], o = p.AxisOffsets(a)[r % size];
                r /= size;
                if (o < 0) return;
                baseOffset += o;
            }
            float* x = X + baseOffset;
            if (last < 0)
            {
                x[0] += y[0];
                return;
            }
            var axis = p.Axes[last];
            var offsets = p.AxisOffsets(last);
            if (axis.Step == 1 && axis.InputStride == 1)
            {
                // The columns whose input coordinate Start + j is inside: one block; the others by table.
                int inside0 = Math.Clamp(-axis.Start, j0, j1), inside1 = Math.Clamp(axis.InputSize - axis.Start, inside0, j1);
                ScatterAdd(y, x, offsets, j0, inside0);
                var block = new Span<float>(x + axis.Start + inside0, inside1 - inside0);
                TensorPrimitives.Add(block, new Span<float>(y + inside0, inside1 - inside0), block);
                ScatterAdd(y, x, offsets, inside1, j1);
            }
            else if (axis.Step == 0)
            {
                int o = offsets[0];
                if (o >= 0) x[o] += TensorPrimitives.Sum(new Span<float>(y + j0, j1 - j0));
            }
            else ScatterAdd(y, x, offsets, j0, j1);
        }

        /// <summary>Columns [j0, j1) through the last axis's offset table: dx[offset] += dy, skipped where it is −1.</summary>
        private static void ScatterAdd(float* y, float* x, ReadOnlySpan<int> offsets, int j0, int j1)
        {
            for (int j = j0; j < j1; j++)
                if (offsets[j] >= 0) x[offsets[j]] += y[j];
        }
    }

    private sealed class RemapForwardJob : IParallelBody
    {
        public RemapProgram Program = null!;
        public float* Y, X;
        public int Chunks, Units, Tasks;

        public void Execute(int task)
        {
            int u0 = (int)((long)Units * task / Tasks), u1 = (int)((long)Units * (task + 1) / Tasks);
            var p = Program;
            if (Chunks == 1)
            {
                Rows(p, u0, u1);
                return;
            }
            for (int u = u0; u < u1; u++)
            {
                int row = u / Chunks, chunk = u % Chunks;
                // Split points on multiples of 8 keep the transpose's blocks whole.
                int blocks = (p.Primary + 7) / 8;
                int p0 = Math.Min(p.Primary, 8 * (int)((long)blocks * chunk / Chunks)), p1 = Math.Min(p.Primary, 8 * (int)((long)blocks * (chunk + 1) / Chunks));
                if (p0 >= p1) continue;
                int offset = p.Base;
                bool filled = false;
                for (int a = p.OuterSizes.Length - 1, r = row; a >= 0; a--)
                {
                    int size = p.OuterSizes[a], o = p.OuterOffsets[a][r % size];
                    r /= size;
                    if (o < 0) filled = true;
                    else offset += o;
                }
                p.Row(Y + (long)row * p.RowSize, X, offset, filled, p0, p1);
            }
        }

        /// <summary>Rows [r0, r1) whole, the outer coordinates stepped like an odometer with each axis's offset kept up to date.</summary>
        private void Rows(RemapProgram p, int r0, int r1)
        {
            int rank = p.OuterSizes.Length;
            Span<int> coordinates = rank <= 16 ? stackalloc int[rank] : new int[rank];
            int offset = p.Base, filled = 0;
            for (int a = rank - 1, r = r0; a >= 0; a--)
            {
                int size = p.OuterSizes[a], c = r % size, o = p.OuterOffsets[a][c];
                r /= size;
                coordinates[a] = c;
                if (o < 0) filled++;
                else offset += o;
            }
            int rowSize = p.RowSize, primary = p.Primary;
            for (int row = r0; row < r1; row++)
            {
                p.Row(Y + (long)row * rowSize, X, offset, filled > 0, 0, primary);
                for (int a = rank - 1; a >= 0; a--)
                {
                    var offsets = p.OuterOffsets[a];
                    int c = coordinates[a], o = offsets[c];
                    if (o < 0) filled--;
                    else offset -= o;
                    if (++c == offsets.Length) c = 0;
                    o = offsets[c];
                    if (o < 0) filled++;
                    else offset += o;
                    coordinates[a] = c;
                    if (c != 0) break;
                }
            }
        }
    }
}
