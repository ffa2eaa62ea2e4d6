using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using NanoCam.Cpu.Simd.Gemm;
using NanoCam.Cpu.Threading;

namespace NanoCam.Cpu.Simd.Conv;

/// <summary>
/// Direct inference convolution for few input channels (a CNN's stem: C ≤ 4, one group, no dilation), where im2col
/// + GEMM sees a depth of only C·R·S and spends its time packing:
///   y[n, k, oy, ox] = act(b[k] + Σ_c Σ_r Σ_s w[k, c, r, s] · x[n, c, sh·oy − pt + r, sw·ox − pl + s]).
/// Each input plane is split once per call into its zero-padded polyphase planes P_cab[i, j] = X_c[sh·i + a, sw·j + b]
/// (as <see cref="DepthwiseConv"/> does), Hq × Wq with Wq = OW + ⌊(S−1)/sw⌋, so every tap reads one contiguous run:
/// X_c[sh·oy + r, sw·ox + s] = P_c,(r mod sh),(s mod sw)[oy + ⌊r/sh⌋, ox + ⌊s/sw⌋]. A tile is 8 output channels × 32
/// output columns of one row in sixteen AVX-512 accumulators: per tap two input vectors and eight broadcast weights
/// (packed per call, zeros past K), sixteen FMAs; a last tile of at most 16 columns keeps one vector per channel. Bias starts the sums; the activation is applied before the store,
/// masked past OW. Tiles split across the pool by (image, channel block, run of rows) when the work is large enough.
/// </summary>
public sealed unsafe class StemConv : IParallelBody
{
    private const int Block = 8, Columns = 32;

    private float[] _scratch = [];
    private int[] _taps = [];
    private Conv2dGeometry _g;
    private float* _y, _phases, _weights, _bias;
    private int* _tapOffsets;
    private long _outputImage, _phaseImage;
    private int _wq, _blocks, _rowsPerTask, _rowTasks;
    private ConvEpilogue _act;

    /// <summary>Whether <paramref name="g"/> runs here: one group, 1 to 4 input channels, no dilation, kernels and strides up to 7 and 4, AVX-512.</summary>
    public static bool Applies(in Conv2dGeometry g) =>
        Avx512F.IsSupported && g.Groups == 1 && g.InputChannels <= 4 && g.DilationHeight == 1 && g.DilationWidth == 1
        && g.KernelHeight <= 7 && g.KernelWidth <= 7 && g.StrideHeight <= 4 && g.StrideWidth <= 4;

    /// <summary>
    /// y = act(conv(x, w) + b) for every image; image n's K planes start at y + n·<paramref name="outputChannels"/>·OH·OW
    /// (a channel slice of a wider output when <paramref name="y"/> is offset into it).
    /// </summary>
    public void Run(in Conv2dGeometry g, float* y, int outputChannels, float* x, float* w, float* bias, ConvEpilogue act, CpuThreadPool? pool)
    {
        if (!Applies(g)) throw new ArgumentException($"stem convolution: {g} does not run here");
        int c = g.InputChannels, kh = g.KernelHeight, kw = g.KernelWidth, sh = g.StrideHeight, sw = g.StrideWidth;
        int oh = g.OutputHeight, ow = g.OutputWidth, h = g.InputHeight, width = g.InputWidth;
        int wq = ow + (kw - 1) / sw, hq = oh + (kh - 1) / sh;
        // Each phase plane, then the columns the last tile's farthest taps read past it (dropped lanes).
        long planeFloats = (long)hq * wq + (kw - 1) / sw + Columns;
        long phaseImage = c * sh * sw * planeFloats;
        int blocks = (g.OutputChannels + Block - 1) / Block, taps = c * kh * kw;
        long weightFloats = (long)blocks * taps * Block, padded = 32L * ((wq + 15) / 16);
        long length = g.Batch * phaseImage + weightFloats + blocks * Block + padded;
        if (_scratch.Length < length) _scratch = GC.AllocateUninitializedArray<float>(checked((int)length), pinned: true);
        if (_taps.Length < taps) _taps = GC.AllocateUninitializedArray<int>(taps, pinned: true);
        float* phases = (float*)Unsafe.AsPointer(ref _scratch[0]);
        float* weights = phases + g.Batch * phaseImage, biases = weights + weightFloats, row = biases + blocks * Block;
        int* offsets = (int*)Unsafe.AsPointer(ref _taps[0]);

        for (int n = 0; n < g.Batch; n++)
            for (int ch = 0; ch < c; ch++)
            {
                float* plane = x + ((long)n * c + ch) * h * width;
                float* first = phases + n * phaseImage + ch * sh * sw * planeFloats;
                for (int a = 0; a < sh; a++)
                {
                    for (int i = 0; i < hq; i++)
                    {
                        int iy = sh * i + a - g.PadTop;
                        float* dst = first + a * sw * planeFloats + (long)i * wq;
                        if ((uint)iy < (uint)h) DepthwiseConv.PhaseRow(dst, planeFloats, plane + (long)iy * width, width, sw, g.PadLeft, wq, row);
                        else for (int b = 0; b < sw; b++) PanelCopy.Zero(dst + b * planeFloats, wq);
                    }
                    for (int b = 0; b < sw; b++) PanelCopy.Zero(first + (a * sw + b) * planeFloats + (long)hq * wq, (int)(planeFloats - (long)hq * wq));
                }
            }
        // Weights as [block][c][r][s][8 channels], zeros past K; taps in the same (c, r, s) order.
        for (int kb = 0; kb < blocks; kb++)
            for (int t = 0; t < taps; t++)
                for (int j = 0; j < Block; j++)
                {
                    int k = kb * Block + j;
                    weights[((long)kb * taps + t) * Block + j] = k < g.OutputChannels ? w[(long)k * taps + t] : 0f;
                }
        for (int k = 0; k < blocks * Block; k++) biases[k] = bias != null && k < g.OutputChannels ? bias[k] : 0f;
        for (int ch = 0; ch < c; ch++)
            for (int r = 0; r < kh; r++)
                for (int s = 0; s < kw; s++)
                    offsets[(ch * kh + r) * kw + s] = checked((int)((ch * sh * sw + r % sh * sw + s % sw) * planeFloats + (long)(r / sh) * wq + s / sw));

        _g = g;
        _y = y;
        _phases = phases;
        _weights = weights;
        _bias = biases;
        _tapOffsets = offsets;
        _outputImage = (long)outputChannels * oh * ow;
        _phaseImage = phaseImage;
        _wq = wq;
        _blocks = blocks;
        _act = act;
        long work = (long)g.Batch * g.OutputChannels * oh * ow * taps;
        int units = g.Batch * blocks;
        int tasks = pool is null ? 1 : pool.TasksFor(work, (long)units * oh);
        int chunks = Math.Max(1, (tasks + units - 1) / units);
        _rowsPerTask = (oh + chunks - 1) / chunks;
        _rowTasks = (oh + _rowsPerTask - 1) / _rowsPerTask;
        CpuThreadPool.For(pool, units * _rowTasks, this, work);
    }

    /// <summary>Task i: rows [chunk·rows, …) of channel block kb of image n, i = (n·blocks + kb)·chunks + chunk.</summary>
    public void Execute(int index)
    {
        ref readonly var g = ref _g;
        int chunk = index % _rowTasks, unit = index / _rowTasks, kb = unit % _blocks, n = unit / _blocks;
        int oh = g.OutputHeight, ow = g.OutputWidth, ohw = oh * ow, taps = g.InputChannels * g.KernelHeight * g.KernelWidth;
        int kCount = Math.Min(Block, g.OutputChannels - kb * Block);
        float* src = _phases + n * _phaseImage, wBlock = _weights + (long)kb * taps * Block, bias = _bias + kb * Block;
        float* yBlock = _y + n * _outputImage + (long)kb * Block * ohw;
        int end = Math.Min(oh, (chunk + 1) * _rowsPerTask);
        float* sums = stackalloc float[Block * Columns];
        for (int oy = chunk * _rowsPerTask; oy < end; oy++)
            for (int ox = 0; ox < ow; ox += Columns)
            {
                // The sums (channel j at 32j), kept apart from the epilogue so that they stay in registers through the taps.
                if (ow - ox > 16) BroadcastFma.Two(src + (long)oy * _wq + ox, _tapOffsets, taps, 16, wBlock, bias, sums, Columns, 16);
                else BroadcastFma.One(src + (long)oy * _wq + ox, _tapOffsets, taps, wBlock, bias, sums, Columns);
                Write(sums, yBlock + (long)oy * ow + ox, ohw, kCount, Math.Min(Columns, ow - ox), _act);
            }
    }

    /// <summary>The first <paramref name="kCount"/> channels of a tile's sums, activated, into y (channel j at y + j·OH·OW), masked past <paramref name="columns"/>.</summary>
    private static void Write(float* sums, float* y, int ohw, int kCount, int columns, in ConvEpilogue act)
    {
        var lanes = Vector512.Create(0f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        var m0 = Vector512.LessThan(lanes, Vector512.Create((float)columns));
        var m1 = Vector512.LessThan(lanes + Vector512.Create(16f), Vector512.Create((float)columns));
        for (int j = 0; j < kCount; j++)
            Store(y + (long)j * ohw, Vector512.Load(sums + Columns * j), Vector512.Load(sums + Columns * j + 16), columns, m0, m1, act);
    }

    /// <summary>act(v0 | v1) into y[0, columns): vector activations in registers, the exponential ones by the scalar definition after the store.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* y, Vector512<float> v0, Vector512<float> v1, int columns, Vector512<float> m0, Vector512<float> m1, in ConvEpilogue act)
    {
        bool vector = VectorActivation.Vectorizes(act.Kind);
        if (vector && !act.IsIdentity)
        {
            v0 = VectorActivation.Apply(act, v0);
            v1 = VectorActivation.Apply(act, v1);
        }
        if (columns == Columns)
        {
            v0.Store(y);
            v1.Store(y + 16);
        }
        else
        {
            Avx512F.MaskStore(y, m0, v0);
            if (columns > 16) Avx512F.MaskStore(y + 16, m1, v1);
        }
        if (!vector) for (int i = 0; i < columns; i++) y[i] = act.Apply(y[i]);
    }
}
