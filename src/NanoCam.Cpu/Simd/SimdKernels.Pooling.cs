using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd.Pooling;
using NanoCam.Cpu.Threading;

namespace NanoCam.Cpu.Simd;

public sealed unsafe partial class SimdKernels
{
    // Max, average and global average pooling, split across the pool by planes (n, c): each plane's outputs and input
    // gradient are its own, so the split changes nothing in the result. Max pooling keeps the reference's rule
    // exactly (window order r then s, first maximum wins, NaN wins and stays), so values and argmax indices match it;
    // average pooling sums each window in the reference's order, so its forward matches it exactly too.

    private enum PoolPass { MaxForward, MaxValues, MaxBackward, MaxBackwardWrite, AvgForward, AvgBackward, GapForward, GapBackward, GapBackwardWrite }

    private readonly PoolJob _poolJob = new();

    public void MaxPool2dForward(Tensor output, Tensor? argmax, Tensor input, Pool2dGeometry g)
    {
        Check.Pool(g, output, input, "maxpool2d");
        if (argmax is null)
        {
            // Values only (no-grad): see MaxPoolValues.
            fixed (float* y = output.Data, x = input.Data)
                RunPool(PoolPass.MaxValues, g, g.Batch * g.Channels, g.InputHeight * g.InputWidth, x, y, null);
            return;
        }
        Check.SameSize(argmax, output, "maxpool2d argmax");
        fixed (float* y = output.Data, am = argmax.Data, x = input.Data)
            RunPool(PoolPass.MaxForward, g, g.Batch * g.Channels, g.InputHeight * g.InputWidth, x, y, am);
    }

    /// <summary>dx[argmax] += dy plane by plane; not accumulating, each plane is cleared just before (while in cache).</summary>
    public void MaxPool2dBackward(Tensor dInput, Tensor dOutput, Tensor argmax, Pool2dGeometry g, bool accumulate = true)
    {
        Check.Pool(g, dOutput, dInput, "maxpool2d backward");
        fixed (float* dx = dInput.Data, dy = dOutput.Data, am = argmax.Data)
            RunPool(accumulate ? PoolPass.MaxBackward : PoolPass.MaxBackwardWrite, g, g.Batch * g.Channels, g.InputHeight * g.InputWidth, dx, dy, am);
    }

    public void AvgPool2dForward(Tensor output, Tensor input, Pool2dGeometry g, bool countIncludePad)
    {
        Check.Pool(g, output, input, "avgpool2d");
        fixed (float* y = output.Data, x = input.Data)
            RunPool(PoolPass.AvgForward, g, g.Batch * g.Channels, g.InputHeight * g.InputWidth, x, y, null, countIncludePad);
    }

    public void AvgPool2dBackward(Tensor dInput, Tensor dOutput, Pool2dGeometry g, bool countIncludePad)
    {
        Check.Pool(g, dOutput, dInput, "avgpool2d backward");
        fixed (float* dx = dInput.Data, dy = dOutput.Data)
            RunPool(PoolPass.AvgBackward, g, g.Batch * g.Channels, g.InputHeight * g.InputWidth, dx, dy, null, countIncludePad);
    }

    public void GlobalAvgPoolForward(Tensor output, Tensor input)
    {
        int planes = input.Shape[0] * input.Shape[1], plane = input.Shape.Product(2, input.Shape.Rank);
        if (output.Size != planes) throw new ArgumentException($"global average pool: output {output.Shape} does not match input {input.Shape}");
        fixed (float* y = output.Data, x = input.Data)
            RunPool(PoolPass.GapForward, default, planes, plane, x, y, null);
    }

    /// <summary>Each of the H·W cells receives dy/(H·W).</summary>
    public void GlobalAvgPoolBackward(Tensor dInput, Tensor dOutput, bool accumulate = true)
    {
        int planes = dInput.Shape[0] * dInput.Shape[1], plane = dInput.Shape.Product(2, dInput.Shape.Rank);
        if (dOutput.Size != planes) throw new ArgumentException($"global average pool backward: dOutput {dOutput.Shape} does not match dInput {dInput.Shape}");
        fixed (float* dx = dInput.Data, dy = dOutput.Data)
            RunPool(accumulate ? PoolPass.GapBackward : PoolPass.GapBackwardWrite, default, planes, plane, dx, dy, null);
    }

    private void RunPool(PoolPass pass, in Pool2dGeometry g, int planes, int plane, float* image, float* pooled, float* argmax, bool countIncludePad = false)
    {
        _poolJob.Set(pass, g, planes, plane, image, pooled, argmax, countIncludePad, _pool.TasksFor((long)planes * plane * CpuThreadPool.ElementWork, planes));
        _pool.For(_poolJob.Tasks, _poolJob);
    }

    /// <summary>Planes [task·P/tasks, (task+1)·P/tasks) of one pooling pass.</summary>
    private sealed class PoolJob : IParallelBody
    {
        private PoolPass _pass;
        private Pool2dGeometry _g;
        private int _planes, _plane;
        private float* _image, _pooled, _argmax;
        private bool _countIncludePad;

        public int Tasks { get; private set; }

        public void Set(PoolPass pass, in Pool2dGeometry g, int planes, int plane, float* image, float* pooled, float* argmax, bool countIncludePad, int tasks)
        {
            (_pass, _g, _planes, _plane, _countIncludePad, Tasks) = (pass, g, planes, plane, countIncludePad, tasks);
            _image = image;
            _pooled = pooled;
            _argmax = argmax;
        }

        public void Execute(int task)
        {
            int first = (int)((long)_planes * task / Tasks), end = (int)((long)_planes * (task + 1) / Tasks);
            int outPlane = _pass is PoolPass.GapForward or PoolPass.GapBackward or PoolPass.GapBackwardWrite ? 1 : _g.OutputHeight * _g.OutputWidth;
            if (_pass == PoolPass.MaxValues)
            {
                int length = MaxPoolValues.RowLength(_g);
                Span<float> buffer = length <= 4096 ? stackalloc float[length] : new float[length];
                fixed (float* row = buffer)
                {
                    MaxPoolValues.PrepareRow(row, _g);
                    for (int p = first; p < end; p++) MaxPoolValues.Plane(_pooled + (long)p * outPlane, _image + (long)p * _plane, row, _g);
                }
                return;
            }
            for (int p = first; p < end; p++)
            {
                float* x = _image + (long)p * _plane, y = _pooled + (long)p * outPlane, am = _argmax + (long)p * outPlane;
                switch (_pass)
                {
                    case PoolPass.MaxForward: MaxPlane(x, y, am, _g); break;
                    case PoolPass.MaxBackward:
                    case PoolPass.MaxBackwardWrite:
                        // Written: the plane is cleared while in cache, then added to (no pass over memory just for zeros).
                        if (_pass == PoolPass.MaxBackwardWrite) new Span<float>(x, _plane).Clear();
                        if (MaxPool2x2Backward.Applies(_g))
                        {
                            MaxPool2x2Backward.Plane(x, y, am, _g);
                            break;
                        }
                        for (int o = 0; o < outPlane; o++)
                        {
                            int index = (int)am[o];
                            if (index >= 0) x[index] += y[o];
                        }
                        break;
                    case PoolPass.AvgForward: AvgWindows(x, y, _g, _countIncludePad); break;
                    case PoolPass.AvgBackward: AvgWindowsBackward(x, y, _g, _countIncludePad); break;
                    case PoolPass.GapForward: *y = TensorPrimitives.Sum(new ReadOnlySpan<float>(x, _plane)) / _plane; break;
                    case PoolPass.GapBackwardWrite: new Span<float>(x, _plane).Fill(*y / _plane); break;
                    default:
                    {
                        var dx = new Span<float>(x, _plane);
                        TensorPrimitives.Add(dx, *y / _plane, dx);
                        break;
                    }
                }
            }
        }
    }

    /// <summary>One plane; 2×2 stride-2 unpadded windows eight at a time by pairs of rows, every other window by <see cref="MaxWindows"/>.</summary>
    private static void MaxPlane(float* x, float* y, float* am, in Pool2dGeometry g)
    {
        int w = g.InputWidth, oh = g.OutputHeight, ow = g.OutputWidth;
        if (!MaxPool2x2Backward.WholeWindows2x2Stride2(g))
        {
            MaxWindows(x, y, am, g);
            return;
        }
        int tailStart = ow & ~7, planeIn = g.InputHeight * w, planeOut = oh * ow;
        for (int oy = 0; oy < oh; oy++)
        {
            // The tail step may read past its row (16 floats from column 2·tailStart of rows 2oy and 2oy + 1) and
            // write past it (8 outputs from tailStart) while that stays inside this plane: the reads then fall on
            // later input rows, and the writes on outputs this sweep writes again later.
            bool readOver = (2 * oy + 1) * w + 2 * tailStart + 16 <= planeIn, writeOver = oy * ow + tailStart + 8 <= planeOut;
            int ox = Avx2.IsSupported ? MaxPairs(x + 2 * oy * w, w, 2 * oy * w, y + oy * ow, am + oy * ow, ow, readOver, writeOver) : 0;
            for (; ox < ow; ox++) MaxPair(x + 2 * oy * w, w, 2 * oy * w, ox, out y[oy * ow + ox], out am[oy * ow + ox]);
        }
    }

    /// <summary>One 2×2 stride-2 window, all four taps inside: the reference rule without its bounds checks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MaxPair(float* top, int w, int topIndex, int ox, out float best, out float argmax)
    {
        float* p = top + 2 * ox;
        int index = topIndex + 2 * ox;
        best = p[0];
        int bestIndex = index;
        Fold(ref best, ref bestIndex, p[1], index + 1);
        Fold(ref best, ref bestIndex, p[w], index + w);
        Fold(ref best, ref bestIndex, p[w + 1], index + w + 1);
        argmax = bestIndex;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Fold(ref float best, ref int bestIndex, float v, int index)
    {
        if (v > best || float.IsNaN(v) && !float.IsNaN(best)) (best, bestIndex) = (v, index);
    }

    /// <summary>
    /// 2×2 stride-2 windows on input rows (top, top + w), eight outputs per step: the 16 inputs of each row split into
    /// even columns (tap s = 0) and odd (s = 1), then the four taps fold in reference order. The last t = 1–7 windows
    /// take one more 8-wide step, so a 7- or 14-wide output row never falls to the scalar loop. That step loads and
    /// stores whole vectors where the caller allows it (<paramref name="readOver"/>, <paramref name="writeOver"/>);
    /// otherwise it masks the loads to the 2·t inputs per row and writes the t outputs one by one. Plain stores
    /// matter: AMD's Zen microcodes VMASKMOVPS stores, and on outputs not in cache one costs tens of cycles (the
    /// 14×14 → 7×7 pool, one masked store pair per row, ran at half the 28×28 → 14×14 pool's speed per byte).
    /// Returns the windows done (all of them).
    /// </summary>
    private static int MaxPairs(float* top, int w, int topIndex, float* y, float* am, int ow, bool readOver, bool writeOver)
    {
        var even = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);
        var lanes = Vector256.Create(0f, 2, 4, 6, 8, 10, 12, 14);
        var one = Vector256<float>.One;
        var row = Vector256.Create((float)w);
        int ox = 0;
        for (; ox + 8 <= ow; ox += 8)
        {
            var (a, b) = Deinterleave(Vector256.Load(top + 2 * ox), Vector256.Load(top + 2 * ox + 8), even);
            var (c, d) = Deinterleave(Vector256.Load(top + w + 2 * ox), Vector256.Load(top + w + 2 * ox + 8), even);
            var first = Vector256.Create((float)(topIndex + 2 * ox)) + lanes;
            var (best, index) = (a, first);
            Take(ref best, ref index, b, first + one);
            Take(ref best, ref index, c, first + row);
            Take(ref best, ref index, d, first + row + one);
            best.Store(y + ox);
            index.Store(am + ox);
        }
        int tail = ow - ox;
        if (tail > 0)
        {
            Vector256<float> a, b, c, d;
            if (readOver)
            {
                (a, b) = Deinterleave(Vector256.Load(top + 2 * ox), Vector256.Load(top + 2 * ox + 8), even);
                (c, d) = Deinterleave(Vector256.Load(top + w + 2 * ox), Vector256.Load(top + w + 2 * ox + 8), even);
            }
            else
            {
                var lane = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
                var low = Vector256.LessThan(lane, Vector256.Create(2 * tail)).AsSingle();
                var high = Vector256.LessThan(lane, Vector256.Create(2 * tail - 8)).AsSingle();
                (a, b) = Deinterleave(Avx.MaskLoad(top + 2 * ox, low), Avx.MaskLoad(top + 2 * ox + 8, high), even);
                (c, d) = Deinterleave(Avx.MaskLoad(top + w + 2 * ox, low), Avx.MaskLoad(top + w + 2 * ox + 8, high), even);
            }
            var first = Vector256.Create((float)(topIndex + 2 * ox)) + lanes;
            var (best, index) = (a, first);
            Take(ref best, ref index, b, first + one);
            Take(ref best, ref index, c, first + row);
            Take(ref best, ref index, d, first + row + one);
            if (writeOver)
            {
                best.Store(y + ox);
                index.Store(am + ox);
            }
            else
            {
                for (int t = 0; t < tail; t++)
                {
                    y[ox + t] = best.GetElement(t);
                    am[ox + t] = index.GetElement(t);
                }
            }
            ox = ow;
        }
        return ox;
    }

    /// <summary>(t0, t1) = 16 consecutive floats → (even-indexed 8, odd-indexed 8).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<float> Even, Vector256<float> Odd) Deinterleave(Vector256<float> t0, Vector256<float> t1, Vector256<int> even)
    {
        var p0 = Avx2.PermuteVar8x32(t0, even);
        var p1 = Avx2.PermuteVar8x32(t1, even);
        return (Vector256.Create(p0.GetLower(), p1.GetLower()), Vector256.Create(p0.GetUpper(), p1.GetUpper()));
    }

    /// <summary>Lanes where v beats best (greater, or NaN over a number) take v and its index.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Take(ref Vector256<float> best, ref Vector256<float> bestIndex, Vector256<float> v, Vector256<float> index)
    {
        // ¬(v ≤ best) holds where v is greater or either is NaN; best = best then keeps a NaN best.
        var wins = ~Vector256.LessThanOrEqual(v, best) & Vector256.Equals(best, best);
        best = Vector256.ConditionalSelect(wins, v, best);
        bestIndex = Vector256.ConditionalSelect(wins, index, bestIndex);
    }
}
