using System.Runtime.Intrinsics;
using NanoCam.Cpu.Threading;
using NanoCam.Elementwise;

namespace NanoCam.Cpu.Simd;

// PReLU forward, y = x < 0 ? slope·x : x (the PRelu operator struct's Value, lane by lane), for the slopes ONNX models
// carry: one slope, one per channel ([C, 1, 1] over [N, C, H, W]: a contiguous run of H·W per slope) or one per element.
// The generic binary kernel calls the struct once per element; this selects eight lanes at a time.

public sealed unsafe partial class SimdKernels
{
    private readonly PReluJob _preluJob = new();

    /// <summary>PReLU forward vectorized where the slope is a scalar, x's shape or a bias-like block; false for any other broadcast.</summary>
    private bool TryPReluForward(Tensor output, Tensor x, Tensor slope)
    {
        if (x.Size != output.Size || output.Size == 0) return false;
        int middle, inner;
        if (slope.Size == 1) (middle, inner) = (1, output.Size);
        else if (slope.Shape == x.Shape) (middle, inner) = (output.Size, 1);
        else if (BroadcastBlock.Of(output.Shape, slope.Shape) is { } block) (middle, inner) = (block.Middle, block.Inner);
        else return false;
        fixed (float* y = output.Data, px = x.Data, ps = slope.Data)
        {
            var job = _preluJob;
            job.Y = y;
            job.X = px;
            job.Slope = ps;
            (job.Middle, job.Inner, job.Count) = (middle, inner, output.Size);
            job.Tasks = TasksFor(output.Size, output.Size / 64);
            _pool.For(job.Tasks, job);
            job.Y = job.X = job.Slope = null;
        }
        return true;
    }

    /// <summary>Elements [t·n/T, (t+1)·n/T) of y = PReLU(x), cut at the runs of one slope (Inner &gt; 1) or at the rows of Middle slopes.</summary>
    private sealed class PReluJob : IParallelBody
    {
        public float* Y, X, Slope;
        public int Middle, Inner, Count, Tasks;

        public void Execute(int task)
        {
            int e = (int)((long)Count * task / Tasks), end = (int)((long)Count * (task + 1) / Tasks);
            while (e < end)
            {
                if (Inner > 1)
                {
                    // Element e lies in run e / Inner, which reads slope (e / Inner) mod Middle.
                    int run = e / Inner, stop = Math.Min(end, (run + 1) * Inner);
                    WithSlope(Y + e, X + e, Slope[run % Middle], stop - e);
                    e = stop;
                }
                else
                {
                    int column = e % Middle, stop = Math.Min(end, e - column + Middle);
                    WithSlopes(Y + e, X + e, Slope + column, stop - e);
                    e = stop;
                }
            }
        }

        private static void WithSlope(float* y, float* x, float slope, int n)
        {
            int i = 0;
            var s = Vector256.Create(slope);
            for (; i + 8 <= n; i += 8)
            {
                var v = Vector256.Load(x + i);
                Vector256.ConditionalSelect(Vector256.LessThan(v, Vector256<float>.Zero), s * v, v).Store(y + i);
            }
            var op = default(PRelu);
            for (; i < n; i++) y[i] = op.Value(x[i], slope);
        }

        private static void WithSlopes(float* y, float* x, float* slope, int n)
        {
            int i = 0;
            for (; i + 8 <= n; i += 8)
            {
                var v = Vector256.Load(x + i);
                Vector256.ConditionalSelect(Vector256.LessThan(v, Vector256<float>.Zero), Vector256.Load(slope + i) * v, v).Store(y + i);
            }
            var op = default(PRelu);
            for (; i < n; i++) y[i] = op.Value(x[i], slope[i]);
        }
    }
}
