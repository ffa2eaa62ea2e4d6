using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using NanoCam.Cpu.Simd.Gemm;
using NanoCam.Cpu.Threading;

namespace NanoCam.Cpu.Simd.Conv;

/// <summary>
/// Depthwise convolution forward (one input channel per group: MobileNet's, MnasNet's, ShuffleNet's and ConvNeXt's
/// spatial filters) as direct sums, one (image, output channel) plane per task:
///   y[n, k, oy, ox] = b[k] + Σ_r Σ_s w[k, 0, r, s] · x[n, k / m, sh·oy − pt + dh·r, sw·ox − pl + dw·s]
/// (m output channels per input channel). A GEMM would see M = m, K = R·S per channel: too thin to run at speed.
/// The zero-padded plane X is split once into its sh·sw polyphase planes P_ab[i, j] = X[sh·i + a, sw·j + b], each
/// Hq × Wq (Wq = OW + ⌊dw·(S−1)/sw⌋) and read as one long row, so that every tap (r, s) is one offset from one base:
///   X[sh·oy + dh·r, sw·ox + dw·s] = P_ab[oy + ⌊dh·r/sh⌋, ox + ⌊dw·s/sw⌋],  a = dh·r mod sh, b = dw·s mod sw,
/// and y[oy, ox] = Z[oy·Wq + ox] with Z[t] = b + Σ_r Σ_s w[r, s] · P_ab[t + ⌊dh·r/sh⌋·Wq + ⌊dw·s/sw⌋] over t &lt; OH·Wq (the
/// Wq − OW columns between output rows are computed and dropped): maps of 7 or 14 columns still fill whole vectors.
/// Runs of 64 outputs keep four AVX-512 accumulators (independent FMA chains), then single vectors of 16 and 8, the
/// last one overlapping the one before where the row is not a multiple of it, and a scalar loop under 8.
/// </summary>
public sealed unsafe class DepthwiseConv : IParallelBody
{
    [ThreadStatic] private static float[]? _scratch;

    private Conv2dGeometry _g;
    private float* _y, _x, _w, _bias;
    private bool _accumulate;
    private float[] _flipped = [];

    /// <summary>Whether this geometry runs here: one input channel per group (any multiplier, kernel, stride, padding and dilation).</summary>
    public static bool Applies(in Conv2dGeometry g) => g.Groups > 1 && g.InputChannelsPerGroup == 1;

    /// <summary>
    /// Whether the input gradient of <paramref name="g"/> runs here: one output channel per input channel and stride 1,
    /// where dX is a depthwise convolution of dY (see <see cref="BackwardInput"/>).
    /// </summary>
    public static bool AppliesBackwardInput(in Conv2dGeometry g) =>
        Applies(g) && g.OutputChannelsPerGroup == 1 && g.StrideHeight == 1 && g.StrideWidth == 1
        && g.PadTop <= g.DilationHeight * (g.KernelHeight - 1) && g.PadBottom <= g.DilationHeight * (g.KernelHeight - 1)
        && g.PadLeft <= g.DilationWidth * (g.KernelWidth - 1) && g.PadRight <= g.DilationWidth * (g.KernelWidth - 1);

    /// <summary>y = conv(x, w) + b over the whole batch, planes split across <paramref name="pool"/> (inline without one).</summary>
    public void Forward(in Conv2dGeometry g, float* y, float* x, float* w, float* bias, CpuThreadPool? pool) =>
        Run(g, y, x, w, bias, accumulate: false, pool);

    /// <summary>
    /// dX (+)= the input gradient of a stride-1 depthwise convolution: dX[c, i, j] = Σ_r Σ_s w[c, r, s] · dY[c, i + pt − dh·r, j + pl − dw·s],
    /// the forward convolution of dY with the kernel turned by 180° (w'[r, s] = w[R−1−r, S−1−s]) and pads
    /// dh·(R−1) − pt, dw·(S−1) − pl, dh·(R−1) − pb, dw·(S−1) − pr, which gives back the H × W map.
    /// </summary>
    public void BackwardInput(in Conv2dGeometry g, float* dx, float* dy, float* w, bool accumulate, CpuThreadPool? pool)
    {
        if (!AppliesBackwardInput(g)) throw new ArgumentException($"depthwise backward input: {g} is not a stride-1 depthwise convolution");
        int taps = g.KernelHeight * g.KernelWidth;
        if (_flipped.Length < g.WeightSize) _flipped = GC.AllocateUninitializedArray<float>(g.WeightSize, pinned: true);
        for (int c = 0; c < g.OutputChannels; c++)
            for (int t = 0; t < taps; t++) _flipped[c * taps + t] = w[c * taps + taps - 1 - t];
        int rowReach = g.DilationHeight * (g.KernelHeight - 1), columnReach = g.DilationWidth * (g.KernelWidth - 1);
        var turned = g with
        {
            InputHeight = g.OutputHeight, InputWidth = g.OutputWidth,
            PadTop = rowReach - g.PadTop, PadLeft = columnReach - g.PadLeft, PadBottom = rowReach - g.PadBottom, PadRight = columnReach - g.PadRight,
        };
        fixed (float* flipped = _flipped) Run(turned, dx, dy, flipped, null, accumulate, pool);
    }

    private readonly WeightGradientJob _weightGradient = new();

    /// <summary>
    /// dW += the weight gradient of a depthwise convolution (any multiplier, kernel, stride, padding and dilation):
    /// dW[k, r, s] = Σ_n Σ_oy Σ_ox dY[n, k, oy, ox] · x[n, k / m, sh·oy − pt + dh·r, sw·ox − pl + dw·s]. Each input plane
    /// is split into its polyphase planes as in the forward pass, and dY copied into rows of Wq floats with zeros past
    /// OW: every tap is then one dot product of OH·Wq floats, dYq · P_ab[tap offset …], the zero columns dropping the
    /// products past the row. Channels are split across the pool; each sums its images in order (deterministic).
    /// </summary>
    public void BackwardWeight(in Conv2dGeometry g, float* dw, float* dy, float* x, CpuThreadPool? pool)
    {
        if (!Applies(g)) throw new ArgumentException($"depthwise backward weight: {g} is not a depthwise convolution");
        var job = _weightGradient;
        job.G = g;
        job.DW = dw;
        job.DY = dy;
        job.X = x;
        CpuThreadPool.For(pool, g.OutputChannels, job, Work(g));
    }

    private sealed class WeightGradientJob : IParallelBody
    {
        public Conv2dGeometry G;
        public float* DW, DY, X;

        /// <summary>Output channel <paramref name="k"/>: its taps' gradients over every image.</summary>
        public void Execute(int k)
        {
            ref readonly var g = ref G;
            int h = g.InputHeight, width = g.InputWidth, oh = g.OutputHeight, ow = g.OutputWidth, kh = g.KernelHeight, kw = g.KernelWidth;
            int sh = g.StrideHeight, sw = g.StrideWidth;
            var layout = new PhaseLayout(g);
            int wq = layout.Wq;
            long planeFloats = layout.PlaneFloats, outputs = layout.Outputs;
            float* phases = layout.Scratch(out float* dyq);
            int taps = kh * kw;
            float* dw = DW + (long)k * taps;
            for (int n = 0; n < g.Batch; n++)
            {
                float* x = X + ((long)n * g.InputChannels + k / g.OutputChannelsPerGroup) * h * width;
                float* dy = DY + ((long)n * g.OutputChannels + k) * oh * ow;
                layout.Split(g, phases, x);
                for (int oy = 0; oy < oh; oy++)
                {
                    new ReadOnlySpan<float>(dy + (long)oy * ow, ow).CopyTo(new Span<float>(dyq + (long)oy * wq, ow));
                    new Span<float>(dyq + (long)oy * wq + ow, wq - ow).Clear();
                }
                var rows = new ReadOnlySpan<float>(dyq, checked((int)outputs));
                for (int r = 0; r < kh; r++)
                    for (int s = 0; s < kw; s++)
                    {
                        int dr = g.DilationHeight * r, ds = g.DilationWidth * s;
                        long tap = (dr % sh * sw + ds % sw) * planeFloats + (long)(dr / sh) * wq + ds / sw;
                        dw[r * kw + s] += System.Numerics.Tensors.TensorPrimitives.Dot(rows, new ReadOnlySpan<float>(phases + tap, rows.Length));
                    }
            }
        }
    }

    private readonly DepthwiseSmallMaps _smallMaps = new();

    /// <summary>
    /// y = act(conv(x, w) + b) (inference): returns false, having applied nothing, where only <see cref="Forward"/>
    /// runs <paramref name="g"/> (the caller then runs it and the activation after); small maps run channel-blocked
    /// with the activation applied before the output is written (<see cref="DepthwiseSmallMaps"/>).
    /// </summary>
    /// <param name="packed">The weights packed for the small-map kernel (<see cref="DepthwiseSmallMaps.PackWeights"/>), or null.</param>
    public bool TryForwardFused(in Conv2dGeometry g, float* y, float* x, float* w, float* bias, ConvEpilogue act, CpuThreadPool? pool, float* packed = null)
    {
        if (!DepthwiseSmallMaps.Applies(g)) return false;
        _smallMaps.Run(g, y, x, w, bias, accumulate: false, act, pool, packed);
        return true;
    }

    private void Run(in Conv2dGeometry g, float* y, float* x, float* w, float* bias, bool accumulate, CpuThreadPool? pool)
    {
        if (DepthwiseSmallMaps.Applies(g))
        {
            _smallMaps.Run(g, y, x, w, bias, accumulate, ConvEpilogue.None, pool);
            return;
        }
        _g = g;
        _y = y;
        _x = x;
        _w = w;
        _bias = bias;
        _accumulate = accumulate;
        int planes = g.Batch * g.OutputChannels;
        CpuThreadPool.For(pool, planes, this, Work(g));
    }

    /// <summary>Multiply-adds of the convolution (forward, or either gradient): what decides whether it is split.</summary>
    private static long Work(in Conv2dGeometry g) => (long)g.Batch * g.OutputChannels * g.OutputHeight * g.OutputWidth * g.KernelHeight * g.KernelWidth;

    /// <summary>Plane i = n·K + k of the output.</summary>
    public void Execute(int plane)
    {
        ref readonly var g = ref _g;
        int k = plane % g.OutputChannels, n = plane / g.OutputChannels;
        int multiplier = g.OutputChannelsPerGroup;
        float* x = _x + ((long)n * g.InputChannels + k / multiplier) * g.InputHeight * g.InputWidth;
        float* y = _y + (long)plane * g.OutputHeight * g.OutputWidth;
        float* w = _w + (long)k * g.KernelHeight * g.KernelWidth;
        Plane(g, y, x, w, _bias == null ? 0f : _bias[k], _accumulate);
    }

    private static void Plane(in Conv2dGeometry g, float* y, float* x, float* w, float bias, bool accumulate)
    {
        int oh = g.OutputHeight, ow = g.OutputWidth, kh = g.KernelHeight, kw = g.KernelWidth, sh = g.StrideHeight, sw = g.StrideWidth;
        var layout = new PhaseLayout(g);
        int wq = layout.Wq;
        long planeFloats = layout.PlaneFloats, outputs = layout.Outputs;
        float* phases = layout.Scratch(out float* z);
        layout.Split(g, phases, x);
        int* taps = stackalloc int[kh * kw];
        for (int r = 0; r < kh; r++)
            for (int s = 0; s < kw; s++)
            {
                int dr = g.DilationHeight * r, ds = g.DilationWidth * s;
                taps[r * kw + s] = checked((int)((dr % sh * sw + ds % sw) * planeFloats + (long)(dr / sh) * wq + ds / sw));
            }
        OutputRow(z, checked((int)outputs), phases, w, taps, kh * kw, bias);
        for (int oy = 0; oy < oh; oy++)
        {
            if (accumulate)
            {
                var target = new Span<float>(y + (long)oy * ow, ow);
                System.Numerics.Tensors.TensorPrimitives.Add(target, new ReadOnlySpan<float>(z + (long)oy * wq, ow), target);
            }
            else PanelCopy.Copy(y + (long)oy * ow, z + (long)oy * wq, ow);
        }
    }

    /// <summary>
    /// The polyphase planes of one input plane (see the class summary): Wq × Hq each, then the columns the last outputs'
    /// farthest taps read past it (PlaneFloats apart), followed in the thread's scratch by OH·Wq floats of rows (Z, or
    /// dY in rows of Wq) and a padded input row for the stride-2 split.
    /// </summary>
    private readonly struct PhaseLayout
    {
        public readonly int Wq, Hq, ColumnReach;
        public readonly long PlaneFloats, Outputs;
        private readonly int _paddedRow, _phases;

        public PhaseLayout(in Conv2dGeometry g)
        {
            int sh = g.StrideHeight, sw = g.StrideWidth;
            ColumnReach = g.DilationWidth * (g.KernelWidth - 1) / sw;
            Wq = g.OutputWidth + ColumnReach;
            Hq = g.OutputHeight + g.DilationHeight * (g.KernelHeight - 1) / sh;
            PlaneFloats = (long)Hq * Wq + ColumnReach;
            Outputs = (long)g.OutputHeight * Wq;
            _paddedRow = 32 * ((Wq + 15) / 16);
            _phases = sh * sw;
        }

        /// <summary>The phase planes in the thread's scratch, and the OH·Wq rows after them (then the padded row).</summary>
        public float* Scratch(out float* rows)
        {
            float* phases = DepthwiseConv.Scratch(_phases * PlaneFloats + Outputs + _paddedRow);
            rows = phases + _phases * PlaneFloats;
            return phases;
        }

        /// <summary>Splits input plane <paramref name="x"/> into its zero-padded phase planes at <paramref name="phases"/>.</summary>
        public void Split(in Conv2dGeometry g, float* phases, float* x)
        {
            int sh = g.StrideHeight, sw = g.StrideWidth, h = g.InputHeight, width = g.InputWidth;
            float* padded = phases + _phases * PlaneFloats + Outputs;
            for (int a = 0; a < sh; a++)
            {
                for (int i = 0; i < Hq; i++)
                {
                    // Row i of the planes (a, ·) is padded row sh·i + a: input row sh·i + a − pt, split into its sw phases.
                    int iy = sh * i + a - g.PadTop;
                    float* first = phases + a * sw * PlaneFloats + (long)i * Wq;
                    if ((uint)iy < (uint)h) PhaseRow(first, PlaneFloats, x + (long)iy * width, width, sw, g.PadLeft, Wq, padded);
                    else for (int b = 0; b < sw; b++) PanelCopy.Zero(first + b * PlaneFloats, Wq);
                }
                for (int b = 0; b < sw; b++) PanelCopy.Zero(phases + (a * sw + b) * PlaneFloats + (long)Hq * Wq, ColumnReach);
            }
        }
    }

    /// <summary>The thread's scratch, grown to <paramref name="length"/> floats.</summary>
    private static float* Scratch(long length)
    {
        var buffer = _scratch;
        if (buffer is null || buffer.Length < length) _scratch = buffer = GC.AllocateUninitializedArray<float>(checked((int)length), pinned: true);
        return (float*)Unsafe.AsPointer(ref buffer[0]);
    }

    /// <summary>
    /// The sw zero-padded polyphase components of one input row, <paramref name="phaseStride"/> floats apart:
    /// P_b[j] = x[sw·j + b − pl] for j &lt; <paramref name="length"/> (0 outside the row). Stride 2 with AVX-512 pads the
    /// row into <paramref name="padded"/> and splits it 32 floats at a time (two-source permutes).
    /// </summary>
    internal static void PhaseRow(float* dst, long phaseStride, float* x, int width, int sw, int padLeft, int length, float* padded)
    {
        if (sw == 1)
        {
            PaddedRow(dst, x, width, padLeft, length);
            return;
        }
        if (sw == 2 && Avx512F.IsSupported)
        {
            int blocks = (length + 15) / 16;
            PaddedRow(padded, x, width, padLeft, 32 * blocks);
            float* even = dst, odd = dst + phaseStride;
            var evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            var odds = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
            int j = 0;
            for (; j + 16 <= length; j += 16)
            {
                var (lo, hi) = (Vector512.Load(padded + 2 * j), Vector512.Load(padded + 2 * j + 16));
                Avx512F.PermuteVar16x32x2(lo, evens, hi).Store(even + j);
                Avx512F.PermuteVar16x32x2(lo, odds, hi).Store(odd + j);
            }
            for (; j < length; j++) (even[j], odd[j]) = (padded[2 * j], padded[2 * j + 1]);
            return;
        }
        for (int b = 0; b < sw; b++)
        {
            float* phase = dst + b * phaseStride;
            for (int j = 0; j < length; j++)
            {
                int t = sw * j + b - padLeft;
                phase[j] = (uint)t < (uint)width ? x[t] : 0f;
            }
        }
    }

    /// <summary>P[j] = x[j − pl] for j in [0, length): zeros, the row, zeros.</summary>
    private static void PaddedRow(float* dst, float* x, int width, int padLeft, int length)
    {
        // Rows of a few dozen floats: inline vector copies rather than three memset/memmove calls.
        int first = Math.Min(padLeft, length), copied = Math.Clamp(length - padLeft, 0, width);
        PanelCopy.Zero(dst, first);
        PanelCopy.Copy(dst + first, x, copied);
        PanelCopy.Zero(dst + first + copied, length - first - copied);
    }

    /// <summary>The outputs: out[ox] = bias + Σ_i weight[i] · source[taps[i] + ox] for ox &lt; <paramref name="ow"/>, taps in order.</summary>
    private static void OutputRow(float* output, int ow, float* source, float* weight, int* taps, int count, float bias)
    {
        int ox = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; ox + 64 <= ow; ox += 64)
            {
                var a0 = Vector512.Create(bias);
                var (a1, a2, a3) = (a0, a0, a0);
                for (int i = 0; i < count; i++)
                {
                    var wv = Vector512.Create(weight[i]);
                    float* at = source + ox + taps[i];
                    a0 = Vector512.FusedMultiplyAdd(wv, Vector512.Load(at), a0);
                    a1 = Vector512.FusedMultiplyAdd(wv, Vector512.Load(at + 16), a1);
                    a2 = Vector512.FusedMultiplyAdd(wv, Vector512.Load(at + 32), a2);
                    a3 = Vector512.FusedMultiplyAdd(wv, Vector512.Load(at + 48), a3);
                }
                a0.Store(output + ox);
                a1.Store(output + ox + 16);
                a2.Store(output + ox + 32);
                a3.Store(output + ox + 48);
            }
            for (; ox + 16 <= ow; ox += 16) Vector16(output + ox, source + ox, weight, taps, count, bias);
            if (ox < ow && ow >= 16)
            {
                // The last 16 outputs again: the ones already written get the same values.
                Vector16(output + ow - 16, source + ow - 16, weight, taps, count, bias);
                return;
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; ox + 8 <= ow; ox += 8) Vector8(output + ox, source + ox, weight, taps, count, bias);
            if (ox < ow && ow >= 8)
            {
                Vector8(output + ow - 8, source + ow - 8, weight, taps, count, bias);
                return;
            }
        }
        for (; ox < ow; ox++)
        {
            float sum = bias;
            for (int i = 0; i < count; i++) sum += weight[i] * source[taps[i] + ox];
            output[ox] = sum;
        }
    }

    /// <summary>Sixteen outputs from <paramref name="source"/> on (a single accumulator).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Vector16(float* output, float* source, float* weight, int* taps, int count, float bias)
    {
        var acc = Vector512.Create(bias);
        for (int i = 0; i < count; i++) acc = Vector512.FusedMultiplyAdd(Vector512.Create(weight[i]), Vector512.Load(source + taps[i]), acc);
        acc.Store(output);
    }

    /// <summary>Eight outputs (AVX2 without AVX-512, or a map under 16 outputs).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Vector8(float* output, float* source, float* weight, int* taps, int count, float bias)
    {
        var acc = Vector256.Create(bias);
        for (int i = 0; i < count; i++) acc = Vector256.FusedMultiplyAdd(Vector256.Create(weight[i]), Vector256.Load(source + taps[i]), acc);
        acc.Store(output);
    }
}
