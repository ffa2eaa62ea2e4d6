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

    /// <summary>Elements from which a pass is split (below, the hand-off costs more than the pass).</summary>
    private const int SplitElements = 1 << 15;

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
        job.Tasks = Threads > 1 && elements >= SplitElements ? Math.Min(Threads, count) : 1;
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

        /// <summary>db[j] += Σ_i Σ dY[i, j, ·] for channels [j0, j1), images in order (A = db, B = dY).</summary>
        private void BiasBackwardRange(float* db, float* dy, int j0, int j1)
        {
            for (int j = j0; j < j1; j++)
            for (int i = 0; i < Images; i++)
                db[j] += TensorPrimitives.Sum(new ReadOnlySpan<float>(dy + ((long)i * Count + j) * Plane, Plane));
        }
    }

    /// <summary>
    /// dx[i] += dy[i] · [x[i] &gt; 0] (and [dy[i] &gt; 0] when guided) for i in [start, end), 16 lanes at a time, scalar
    /// tail; dx[i] = … instead when not accumulating (dx is then only written: one stream fewer).
    /// </summary>
    private static void ReluBackwardRange(float* dx, float* dy, float* x, int start, int end, bool guided, bool accumulate)
    {
        int i = start;
        for (; i + 16 <= end; i += 16)
        {
            var vdy = Vector512.Load(dy + i);
            var mask = Vector512.GreaterThan(Vector512.Load(x + i), Vector512<float>.Zero);
            if (guided) mask &= Vector512.GreaterThan(vdy, Vector512<float>.Zero);
            var passed = vdy & mask;
            (accumulate ? Vector512.Load(dx + i) + passed : passed).Store(dx + i);
        }
        for (; i < end; i++)
        {
            float passed = x[i] > 0 && (!guided || dy[i] > 0) ? dy[i] : 0f;
            dx[i] = accumulate ? dx[i] + passed : passed;
        }
    }
}
