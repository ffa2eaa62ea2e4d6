using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using NanoCam.Cpu.Threading;

namespace NanoCam.Cpu.Simd;

public sealed unsafe partial class SimdKernels
{
    // The memory-bound passes of a training step (zeroing gradients, ReLU forward and backward, the bias gradient),
    // split across the pool in contiguous ranges: one core alone does not reach the machine's memory bandwidth, and
    // left on the calling thread they are what keeps a two-thread step from scaling. Every element (every bias
    // channel) is computed by one task in the same order as without the split, so the results do not depend on the
    // thread count.

    private enum SplitPass { Fill, ReluForward, ReluBackward, GuidedReluBackward, BiasBackward }

    private readonly SplitJob _splitJob = new();

    /// <summary>Runs a pass over [0, count) items (elements, or bias channels of planes·images elements each).</summary>
    private void RunSplit(SplitPass pass, int count, long elements, float* a, float* b, float* c, float value = 0f, int images = 0, int plane = 0, bool accumulate = true)
    {
        var job = _splitJob;
        (job.Pass, job.Count, job.Value, job.Images, job.Plane, job.Accumulate) = (pass, count, value, images, plane, accumulate);
        job.A = a;
        job.B = b;
        job.C = c;
        job.Tasks = _pool.TasksFor(elements * CpuThreadPool.ElementWork, count);
        _pool.For(job.Tasks, job);
    }

    /// <summary>Items [task·Count/Tasks, (task+1)·Count/Tasks) of one pass; element ranges start on a 16-float boundary.</summary>
    private sealed class SplitJob : IParallelBody
    {
        public SplitPass Pass;
        public int Count, Tasks, Images, Plane;
        public float* A, B, C;
        public float Value;
        /// <summary>ReLU backward adds to dx (true) or writes it.</summary>
        public bool Accumulate;

        public void Execute(int task)
        {
            int start = Boundary(task), end = Boundary(task + 1);
            switch (Pass)
            {
                case SplitPass.Fill: new Span<float>(A + start, end - start).Fill(Value); break;
                case SplitPass.ReluForward: TensorPrimitives.Max(new ReadOnlySpan<float>(B + start, end - start), 0f, new Span<float>(A + start, end - start)); break;
                case SplitPass.ReluBackward: ReluBackwardRange(A, B, C, start, end, guided: false, Accumulate); break;
                case SplitPass.GuidedReluBackward: ReluBackwardRange(A, B, C, start, end, guided: true, Accumulate); break;
                default: BiasBackwardRange(A, B, start, end); break;
            }
        }

        private int Boundary(int task)
        {
            if (task == Tasks) return Count;
            long at = (long)Count * task / Tasks;
            return Pass == SplitPass.BiasBackward ? (int)at : (int)(at & ~15L);
        }

        /// <summary>
        /// db[j] += Σ_i Σ dY[i, j, ·] for channels [j0, j1) (A = db, B = dY). Images outer, channels inner, so each
        /// image's run of planes streams through in address order (channel outer read 64 short planes a channel
        /// apart, which the prefetchers do not follow: a 7×7 plane is 196 bytes). Each channel keeps two 16-lane
        /// partial sums (its plane's even and odd 16-float chunks) and a scalar one for the last Plane mod 16 floats,
        /// over all images; they are reduced once at the end. The order of every channel's additions depends only on
        /// Plane and Images, never on the range or the thread count.
        /// </summary>
        private void BiasBackwardRange(float* db, float* dy, int j0, int j1)
        {
            const int Block = 64;   // channels per sweep: their partial sums take 64·(2·64 + 4) bytes of stack
            int full = Plane & ~15;
            var sums = stackalloc Vector512<float>[2 * Block];
            var tails = stackalloc float[Block];
            for (int jb = j0; jb < j1; jb += Block)
            {
                int channels = Math.Min(Block, j1 - jb);
                new Span<Vector512<float>>(sums, 2 * channels).Clear();
                new Span<float>(tails, channels).Clear();
                for (int i = 0; i < Images; i++)
                {
                    float* plane = dy + ((long)i * Count + jb) * Plane;
                    for (int c = 0; c < channels; c++, plane += Plane)
                    {
                        var (even, odd) = (sums[2 * c], sums[2 * c + 1]);
                        int p = 0;
                        for (; p + 32 <= full; p += 32)
                        {
                            even += Vector512.Load(plane + p);
                            odd += Vector512.Load(plane + p + 16);
                        }
                        if (p < full) even += Vector512.Load(plane + p);
                        (sums[2 * c], sums[2 * c + 1]) = (even, odd);
                        float tail = tails[c];
                        for (p = full; p < Plane; p++) tail += plane[p];
                        tails[c] = tail;
                    }
                }
                for (int c = 0; c < channels; c++)
                    db[jb + c] += Vector512.Sum(sums[2 * c] + sums[2 * c + 1]) + tails[c];
            }
        }
    }

    /// <summary>
    /// dx[i] += dy[i] where x[i] &gt; 0 (and dy[i] &gt; 0 when guided), other dx[i] untouched, for i in [start, end); 16
    /// lanes at a time, scalar tail. Not accumulating, dx is written as if it had been zeroed first (0 + dy[i] or 0) and
    /// never read: one memory stream fewer.
    /// </summary>
    private static void ReluBackwardRange(float* dx, float* dy, float* x, int start, int end, bool guided, bool accumulate)
    {
        int i = start;
        for (; i + 16 <= end; i += 16)
        {
            var vdy = Vector512.Load(dy + i);
            var mask = Vector512.GreaterThan(Vector512.Load(x + i), Vector512<float>.Zero);
            if (guided) mask &= Vector512.GreaterThan(vdy, Vector512<float>.Zero);
            var vdx = accumulate ? Vector512.Load(dx + i) : Vector512<float>.Zero;
            Vector512.ConditionalSelect(mask, vdx + vdy, vdx).Store(dx + i);   // not dx + 0, which turns −0 into +0
        }
        for (; i < end; i++)
        {
            float old = accumulate ? dx[i] : 0f;
            dx[i] = x[i] > 0 && (!guided || dy[i] > 0) ? old + dy[i] : old;
        }
    }
}
