using System.Numerics.Tensors;
using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Threading;

namespace NanoCam.Cpu.Simd;

public sealed unsafe partial class SimdKernels
{
    // Remap row by row over the coalesced plan (RemapPlan.Coalesced: neighbouring axes that read one constant stride are
    // one axis, so a transpose of [N, C, H, W] to [N, H, W, C] has rows of C and a pad of the last axes has rows of W).
    // A row's start in the input is the sum of its outer coordinates' offsets (any −1: the whole row is the fill); its
    // run then is a block copy where the last axis steps by 1 through contiguous input (the cells a pad adds at either
    // end go through the axis's offset table), one value repeated where it steps by 0 (expand), or a gather.
    // Backward adds each run back the same way: forward and backward both split across the pool when the plan reads
    // each input element once (IsInjective); otherwise outputs that share an input would race, and it runs on one thread.

    private readonly RemapJob _remapJob = new();

    public void RemapForward(Tensor output, Tensor input, RemapPlan plan)
    {
        NaiveKernels.CheckRemap(output, input, plan, "remap");
        if (plan.OutputSize == 0) return;
        fixed (float* y = output.Data, x = input.Data)
            RunRemap(plan, y, x, backward: false, parallel: true);
    }

    public void RemapBackward(Tensor dInput, Tensor dOutput, RemapPlan plan)
    {
        NaiveKernels.CheckRemap(dOutput, dInput, plan, "remap backward");
        if (plan.OutputSize == 0) return;
        fixed (float* dy = dOutput.Data, dx = dInput.Data)
            RunRemap(plan, dy, dx, backward: true, parallel: plan.IsInjective);
    }

    private void RunRemap(RemapPlan plan, float* outputSide, float* inputSide, bool backward, bool parallel)
    {
        var job = _remapJob;
        var p = plan.Coalesced();
        job.Plan = p;
        job.Y = outputSide;
        job.X = inputSide;
        job.Backward = backward;
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
        public bool Backward;
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
            // The row's input base: Σ over the outer axes of their offsets; −1 anywhere: a filled row.
            int baseOffset = 0;
            for (int a = last - 1, r = row; a >= 0; a--)
            {
                int size = p.OutputDims[a], o = p.AxisOffsets(a)[r % size];
                r /= size;
                if (o < 0)
                {
                    if (!Backward) new Span<float>(y + j0, j1 - j0).Fill(p.Fill);
                    return;
                }
                baseOffset += o;
            }
            float* x = X + baseOffset;
            if (last < 0)
            {
                if (Backward) x[0] += y[0];
                else y[0] = x[0];
                return;
            }
            var axis = p.Axes[last];
            var offsets = p.AxisOffsets(last);
            if (axis.Step == 1 && axis.InputStride == 1)
            {
                // The columns whose input coordinate Start + j is inside: one block; the others by table.
                int inside0 = Math.Clamp(-axis.Start, j0, j1), inside1 = Math.Clamp(axis.InputSize - axis.Start, inside0, j1);
                Table(y, x, offsets, j0, inside0);
                var block = new Span<float>(x + axis.Start + inside0, inside1 - inside0);
                var run = new Span<float>(y + inside0, inside1 - inside0);
                if (Backward) TensorPrimitives.Add(block, run, block);
                else block.CopyTo(run);
                Table(y, x, offsets, inside1, j1);
            }
            else if (axis.Step == 0)
            {
                int o = offsets[0];
                var run = new Span<float>(y + j0, j1 - j0);
                if (Backward) { if (o >= 0) x[o] += TensorPrimitives.Sum(run); }
                else run.Fill(o < 0 ? p.Fill : x[o]);
            }
            else Table(y, x, offsets, j0, j1);
        }

        /// <summary>Columns [j0, j1) through the last axis's offset table: gather (or scatter-add), the fill where it is −1.</summary>
        private void Table(float* y, float* x, ReadOnlySpan<int> offsets, int j0, int j1)
        {
            if (Backward)
            {
                for (int j = j0; j < j1; j++)
                    if (offsets[j] >= 0) x[offsets[j]] += y[j];
                return;
            }
            float fill = Plan.Fill;
            for (int j = j0; j < j1; j++) y[j] = offsets[j] < 0 ? fill : x[offsets[j]];
        }
    }
}
