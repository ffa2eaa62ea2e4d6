using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using NanoCam.Cpu.Simd.Gemm;
using NanoCam.Cpu.Threading;

namespace NanoCam.Cpu.Simd.Conv;

/// <summary>
/// Depthwise convolution on small feature maps (MobileNet's and MnasNet's 4×4 and 8×8 stages), sixteen output channels
/// per AVX-512 vector instead of one plane per task: the per-plane set-up of <see cref="DepthwiseConv"/> (padded
/// polyphase planes, tap table, copies) costs more than a 4×4 plane's arithmetic. A task takes one image and sixteen
/// output channels k0 … k0 + 15: their zero-padded input planes are turned into X[iy, ix, lane] and their weights into
/// W[r, s, lane] by 16×16 transposes (<see cref="PanelTranspose.Square16"/>), then, four output positions at a time,
///   Y[oy, ox, lane] = b[lane] + Σ_r Σ_s W[r, s, lane] · X[sh·oy + dh·r, sw·ox + dw·s, lane]   (r, s in order),
/// the activation is applied to Y, and Y is turned back into the output planes by the same transposes (added to them when accumulating). Each
/// output sums the plane path's terms (padding zeros included) in the plane path's order, in fused multiply-adds.
/// </summary>
public sealed unsafe class DepthwiseSmallMaps : IParallelBody
{
    /// <summary>
    /// Output positions (OH·OW) up to which this kernel runs. Measured against the plane path (1 thread, under load,
    /// fastest of 200 calls): 5×5 on 72 channels at 16×16 21 against 41 µs, stride 2 on 48 from 32×32 → 16×16 26
    /// against 48; at 32×32 outputs the plane path wins (3×3 on 48: 44 against 36 µs; stride 2 on 24 from 64×64: 52 against 44).
    /// </summary>
    public const int MaxOutputs = 256;

    /// <summary>Padded input positions up to which this kernel runs (36×36: a 5×5 stride-2 convolution of a 32×32 map).</summary>
    public const int MaxInputs = 1600;

    private const int Lanes = 16;

    [ThreadStatic] private static float[]? _scratch;
    [ThreadStatic] private static (int, int, int, int, int, int) _layout;   // the padded layout whose zero border the scratch holds

    private Conv2dGeometry _g;
    private float* _y, _x, _w, _bias, _packed;
    private bool _accumulate;
    private ConvEpilogue _epilogue;
    private int _channelBlocks;

    /// <summary>Whether <paramref name="g"/> (a depthwise geometry) runs here: small maps, with AVX-512 in hardware.</summary>
    public static bool Applies(in Conv2dGeometry g) =>
        Avx512F.IsSupported && Avx2.IsSupported && g.OutputHeight * g.OutputWidth <= MaxOutputs && (g.InputHeight + g.PadTop + g.PadBottom) * (g.InputWidth + g.PadLeft + g.PadRight) <= MaxInputs;

    /// <summary>
    /// y = act(conv(x, w) + b), or y += conv(x, w) + b when accumulating (then act must be the identity), over the whole
    /// batch, blocks of sixteen channels split across <paramref name="pool"/>.
    /// </summary>
    /// <param name="packed">The weights as <see cref="PackWeights"/> laid them out for this geometry, or null to turn them on each call.</param>
    public void Run(in Conv2dGeometry g, float* y, float* x, float* w, float* bias, bool accumulate, ConvEpilogue act, CpuThreadPool? pool, float* packed = null)
    {
        _packed = packed;
        if (accumulate && !act.IsIdentity) throw new ArgumentException("depthwise small maps: an activation cannot follow an accumulated sum");
        _epilogue = act;
        _g = g;
        _y = y;
        _x = x;
        _w = w;
        _bias = bias;
        _accumulate = accumulate;
        _channelBlocks = (g.OutputChannels + Lanes - 1) / Lanes;
        int blocks = g.Batch * _channelBlocks;
        CpuThreadPool.For(pool, blocks, this, (long)g.Batch * g.OutputChannels * g.OutputHeight * g.OutputWidth * g.KernelHeight * g.KernelWidth);
    }

    /// <summary>Block i: image i / blocks-per-image, channels 16·(i mod blocks-per-image) onwards.</summary>
    // Optimized from the first call: the first passes of a model (and a short benchmark under load, whose tier-up can
    // come after it ends) otherwise run unoptimized code ten times slower.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int block)
    {
        ref readonly var g = ref _g;
        int n = block / _channelBlocks, k0 = block % _channelBlocks * Lanes, lanes = Math.Min(Lanes, g.OutputChannels - k0);
        int h = g.InputHeight, width = g.InputWidth, hw = h * width, oh = g.OutputHeight, ow = g.OutputWidth, ohw = oh * ow;
        int hp = h + g.PadTop + g.PadBottom, wp = width + g.PadLeft + g.PadRight;
        int kh = g.KernelHeight, kw = g.KernelWidth, taps = kh * kw, multiplier = g.OutputChannelsPerGroup;
        // X, then W and Y with whole 16-row blocks (transposed in place), then one 16×16 block for the input's transpose.
        long xFloats = (long)hp * wp * Lanes, wFloats = (long)Blocks16(taps) * Lanes * Lanes;
        float* xt = Scratch(xFloats + wFloats + (long)Blocks16(ohw) * Lanes * Lanes + Lanes * Lanes, (hp, wp, g.PadTop, g.PadLeft, h, width));
        float* wt = xt + xFloats, yt = wt + wFloats, square = yt + (long)Blocks16(ohw) * Lanes * Lanes;

        // Lane l is output channel k0 + l; missing lanes read zeros (their sums are dropped). X's padding border is
        // zero already when this thread's scratch last held the same layout (Scratch cleared it otherwise).
        var channels = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) + Vector512.Create(k0);
        var laneMask = MaskedTile8.Mask(lanes);
        float* image = _x + (long)n * g.InputChannels * hw;
        if (multiplier == 1)
        {
            // Sixteen input positions of the sixteen planes at a time: loaded as rows, turned so each position is a vector.
            float* planes = image + (long)k0 * hw;
            for (int p0 = 0; p0 < hw; p0 += Lanes)
            {
                int count = Math.Min(Lanes, hw - p0);
                RowsIn(square, planes + p0, hw, lanes, count);
                PanelTranspose.Square16(square, Lanes, square, Lanes);
                for (int j = 0, iy = p0 / width, ix = p0 % width; j < count; j++)
                {
                    Vector512.Load(square + j * Lanes).Store(xt + ((long)(g.PadTop + iy) * wp + g.PadLeft + ix) * Lanes);
                    if (++ix == width) (ix, iy) = (0, iy + 1);
                }
            }
        }
        else
        {
            // Several outputs per input channel: lane l reads channel (k0 + l) / multiplier, one gather per position.
            var clamped = Vector512.Min(channels, Vector512.Create(g.OutputChannels - 1));
            var inputOffsets = clamped / Vector512.Create(multiplier) * Vector512.Create(hw);
            for (int iy = 0; iy < h; iy++)
            {
                float* row = xt + ((long)(g.PadTop + iy) * wp + g.PadLeft) * Lanes;
                for (int ix = 0; ix < width; ix++) Gather(image + iy * width + ix, inputOffsets).Store(row + ix * Lanes);
            }
        }
        // W[tap, lane]: packed once (PackWeights), or turned from the weights here.
        if (_packed != null) wt = _packed + (long)(k0 / Lanes) * wFloats;
        else TurnWeights(wt, _w + (long)k0 * taps, taps, lanes);
        var bias = _bias == null ? Vector512<float>.Zero : Avx512F.MaskLoad(_bias + k0, laneMask, Vector512<float>.Zero);

        // Y[oy, ox] = b + Σ_r Σ_s W[r, s] · X[sh·oy + dh·r, sw·ox + dw·s] over the padded map: four positions at a time.
        int sh = g.StrideHeight, sw = g.StrideWidth;
        long rowStep = (long)g.DilationHeight * wp * Lanes, tapStep = (long)g.DilationWidth * Lanes, step = (long)sw * Lanes;
        // The row kernels below (3 or 5 taps at stride 1 or 2): their stride, else 0 (the generic loop).
        int slide = g.DilationWidth == 1 && kw is 3 or 5 && sw is 1 or 2 ? sw : 0;
        for (int oy = 0; oy < oh; oy++)
        {
            float* top = xt + (long)oy * sh * wp * Lanes;
            float* y = yt + (long)oy * ow * Lanes;
            int ox = 0;
            for (; ox + 4 <= ow; ox += 4)
            {
                var (a0, a1, a2, a3) = (bias, bias, bias, bias);
                float* wv = wt;
                if (slide != 0)
                {
                    // 3 or 5 taps a row at stride 1 or 2: the row's input vectors (6, 8, 9 or 11) loaded once for the four outputs.
                    for (int r = 0; r < kh; r++, wv += kw * Lanes)
                    {
                        float* at = top + r * rowStep + ox * step;
                        if (slide == 1) SlideStride1(at, wv, kw, ref a0, ref a1, ref a2, ref a3);
                        else SlideStride2(at, wv, kw, ref a0, ref a1, ref a2, ref a3);
                    }
                }
                else
                for (int r = 0; r < kh; r++)
                {
                    float* at = top + r * rowStep + ox * step;
                    for (int s = 0; s < kw; s++, wv += Lanes, at += tapStep)
                    {
                        var weight = Vector512.Load(wv);
                        a0 = Vector512.FusedMultiplyAdd(weight, Vector512.Load(at), a0);
                        a1 = Vector512.FusedMultiplyAdd(weight, Vector512.Load(at + step), a1);
                        a2 = Vector512.FusedMultiplyAdd(weight, Vector512.Load(at + 2 * step), a2);
                        a3 = Vector512.FusedMultiplyAdd(weight, Vector512.Load(at + 3 * step), a3);
                    }
                }
                a0.Store(y + ox * Lanes);
                a1.Store(y + (ox + 1) * Lanes);
                a2.Store(y + (ox + 2) * Lanes);
                a3.Store(y + (ox + 3) * Lanes);
            }
            for (; ox < ow; ox++)
            {
                var a0 = bias;
                float* wv = wt;
                for (int r = 0; r < kh; r++)
                {
                    float* at = top + r * rowStep + ox * step;
                    for (int s = 0; s < kw; s++, wv += Lanes, at += tapStep)
                        a0 = Vector512.FusedMultiplyAdd(Vector512.Load(wv), Vector512.Load(at), a0);
                }
                a0.Store(y + ox * Lanes);
            }
        }

        var act = _epilogue;
        bool scalarAct = !VectorActivation.Vectorizes(act.Kind);
        if (!act.IsIdentity && !scalarAct)
            for (int p = 0; p < ohw; p++) VectorActivation.Apply(act, Vector512.Load(yt + p * Lanes)).Store(yt + p * Lanes);
        // Y turned back sixteen positions at a time (rows past OH·OW are scratch: their lanes are not stored), each
        // channel's run of positions written (or added) with a mask.
        float* output = _y + ((long)n * g.OutputChannels + k0) * ohw;
        for (int p0 = 0; p0 < ohw; p0 += Lanes)
        {
            var mask = MaskedTile8.Mask(Math.Min(Lanes, ohw - p0));
            PanelTranspose.Square16(square, Lanes, yt + (long)p0 * Lanes, Lanes);
            for (int l = 0; l < lanes; l++)
            {
                float* dst = output + (long)l * ohw + p0;
                var v = Vector512.Load(square + l * Lanes);
                if (_accumulate) v += Avx512F.MaskLoad(dst, mask, Vector512<float>.Zero);
                Avx512F.MaskStore(dst, mask, v);
            }
        }
        if (scalarAct)
            for (int l = 0; l < lanes; l++)
            {
                float* dst = output + (long)l * ohw;
                for (int p = 0; p < ohw; p++) dst[p] = act.Apply(dst[p]);
            }
    }

    /// <summary>
    /// One kernel row of <paramref name="kw"/> = 3 or 5 taps for outputs ox … ox + 3 at stride 1:
    /// a_o += Σ_s w[s]·x[o + s] (s in order, as the generic loop), each of the 6 or 8 input vectors loaded once.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SlideStride1(float* at, float* w, int kw, ref Vector512<float> a0, ref Vector512<float> a1, ref Vector512<float> a2, ref Vector512<float> a3)
    {
        var (x0, x1, x2, x3, x4, x5) = (Vector512.Load(at), Vector512.Load(at + 16), Vector512.Load(at + 32), Vector512.Load(at + 48), Vector512.Load(at + 64), Vector512.Load(at + 80));
        Tap(w, x0, x1, x2, x3, ref a0, ref a1, ref a2, ref a3);
        Tap(w + 16, x1, x2, x3, x4, ref a0, ref a1, ref a2, ref a3);
        Tap(w + 32, x2, x3, x4, x5, ref a0, ref a1, ref a2, ref a3);
        if (kw == 3) return;
        var (x6, x7) = (Vector512.Load(at + 96), Vector512.Load(at + 112));
        Tap(w + 48, x3, x4, x5, x6, ref a0, ref a1, ref a2, ref a3);
        Tap(w + 64, x4, x5, x6, x7, ref a0, ref a1, ref a2, ref a3);
    }

    /// <summary>As <see cref="SlideStride1"/> at stride 2: a_o += Σ_s w[s]·x[2o + s], 9 or 11 input vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SlideStride2(float* at, float* w, int kw, ref Vector512<float> a0, ref Vector512<float> a1, ref Vector512<float> a2, ref Vector512<float> a3)
    {
        var (x0, x1, x2, x3, x4, x5) = (Vector512.Load(at), Vector512.Load(at + 16), Vector512.Load(at + 32), Vector512.Load(at + 48), Vector512.Load(at + 64), Vector512.Load(at + 80));
        var (x6, x7, x8) = (Vector512.Load(at + 96), Vector512.Load(at + 112), Vector512.Load(at + 128));
        Tap(w, x0, x2, x4, x6, ref a0, ref a1, ref a2, ref a3);
        Tap(w + 16, x1, x3, x5, x7, ref a0, ref a1, ref a2, ref a3);
        Tap(w + 32, x2, x4, x6, x8, ref a0, ref a1, ref a2, ref a3);
        if (kw == 3) return;
        var (x9, x10) = (Vector512.Load(at + 144), Vector512.Load(at + 160));
        Tap(w + 48, x3, x5, x7, x9, ref a0, ref a1, ref a2, ref a3);
        Tap(w + 64, x4, x6, x8, x10, ref a0, ref a1, ref a2, ref a3);
    }

    /// <summary>One tap for four outputs: a_o += w · x_o.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tap(float* w, Vector512<float> x0, Vector512<float> x1, Vector512<float> x2, Vector512<float> x3,
        ref Vector512<float> a0, ref Vector512<float> a1, ref Vector512<float> a2, ref Vector512<float> a3)
    {
        var wv = Vector512.Load(w);
        (a0, a1, a2, a3) = (Vector512.FusedMultiplyAdd(wv, x0, a0), Vector512.FusedMultiplyAdd(wv, x1, a1), Vector512.FusedMultiplyAdd(wv, x2, a2), Vector512.FusedMultiplyAdd(wv, x3, a3));
    }

    /// <summary>
    /// The weights of <paramref name="g"/> as each channel block reads them, W[tap, lane] (rows past the taps and lanes
    /// past the channels zero), one block after another, from a 64-byte boundary: what <see cref="Run"/> takes as packed.
    /// </summary>
    public static PackedDepthwiseWeights PackWeights(float* w, in Conv2dGeometry g)
    {
        int taps = g.KernelHeight * g.KernelWidth, blocks = Blocks16(g.OutputChannels), floats = Blocks16(taps) * Lanes * Lanes;
        var packed = new PackedDepthwiseWeights((long)blocks * floats);
        for (int block = 0; block < blocks; block++)
            TurnWeights(packed.Pointer + (long)block * floats, w + (long)block * Lanes * taps, taps, Math.Min(Lanes, g.OutputChannels - block * Lanes));
        return packed;
    }

    /// <summary>W[t, l] = w[l·taps + t] for l &lt; lanes (zero for the other lanes), sixteen taps at a time through a transpose.</summary>
    private static void TurnWeights(float* wt, float* w, int taps, int lanes)
    {
        for (int t0 = 0; t0 < taps; t0 += Lanes)
        {
            float* square = wt + (long)t0 * Lanes;
            RowsIn(square, w + t0, taps, lanes, Math.Min(Lanes, taps - t0));
            PanelTranspose.Square16(square, Lanes, square, Lanes);
        }
    }

    /// <summary>One kernel row of 3 taps for outputs ox … ox + 3 at stride 2: a_o += Σ_s w[s]·x[2o + s], nine input vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Slide3Stride2(float* at, float* w, ref Vector512<float> a0, ref Vector512<float> a1, ref Vector512<float> a2, ref Vector512<float> a3)
    {
        var (x0, x1, x2, x3, x4, x5) = (Vector512.Load(at), Vector512.Load(at + 16), Vector512.Load(at + 32), Vector512.Load(at + 48), Vector512.Load(at + 64), Vector512.Load(at + 80));
        var (x6, x7, x8) = (Vector512.Load(at + 96), Vector512.Load(at + 112), Vector512.Load(at + 128));
        var w0 = Vector512.Load(w);
        (a0, a1, a2, a3) = (Vector512.FusedMultiplyAdd(w0, x0, a0), Vector512.FusedMultiplyAdd(w0, x2, a1), Vector512.FusedMultiplyAdd(w0, x4, a2), Vector512.FusedMultiplyAdd(w0, x6, a3));
        var w1 = Vector512.Load(w + 16);
        (a0, a1, a2, a3) = (Vector512.FusedMultiplyAdd(w1, x1, a0), Vector512.FusedMultiplyAdd(w1, x3, a1), Vector512.FusedMultiplyAdd(w1, x5, a2), Vector512.FusedMultiplyAdd(w1, x7, a3));
        var w2 = Vector512.Load(w + 32);
        (a0, a1, a2, a3) = (Vector512.FusedMultiplyAdd(w2, x2, a0), Vector512.FusedMultiplyAdd(w2, x4, a1), Vector512.FusedMultiplyAdd(w2, x6, a2), Vector512.FusedMultiplyAdd(w2, x8, a3));
    }

    /// <summary>One kernel row of 5 taps for outputs ox … ox + 3 at stride 2, eleven input vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Slide5Stride2(float* at, float* w, ref Vector512<float> a0, ref Vector512<float> a1, ref Vector512<float> a2, ref Vector512<float> a3)
    {
        var (x0, x1, x2, x3, x4, x5) = (Vector512.Load(at), Vector512.Load(at + 16), Vector512.Load(at + 32), Vector512.Load(at + 48), Vector512.Load(at + 64), Vector512.Load(at + 80));
        var (x6, x7, x8, x9, x10) = (Vector512.Load(at + 96), Vector512.Load(at + 112), Vector512.Load(at + 128), Vector512.Load(at + 144), Vector512.Load(at + 160));
        var w0 = Vector512.Load(w);
        (a0, a1, a2, a3) = (Vector512.FusedMultiplyAdd(w0, x0, a0), Vector512.FusedMultiplyAdd(w0, x2, a1), Vector512.FusedMultiplyAdd(w0, x4, a2), Vector512.FusedMultiplyAdd(w0, x6, a3));
        var w1 = Vector512.Load(w + 16);
        (a0, a1, a2, a3) = (Vector512.FusedMultiplyAdd(w1, x1, a0), Vector512.FusedMultiplyAdd(w1, x3, a1), Vector512.FusedMultiplyAdd(w1, x5, a2), Vector512.FusedMultiplyAdd(w1, x7, a3));
        var w2 = Vector512.Load(w + 32);
        (a0, a1, a2, a3) = (Vector512.FusedMultiplyAdd(w2, x2, a0), Vector512.FusedMultiplyAdd(w2, x4, a1), Vector512.FusedMultiplyAdd(w2, x6, a2), Vector512.FusedMultiplyAdd(w2, x8, a3));
        var w3 = Vector512.Load(w + 48);
        (a0, a1, a2, a3) = (Vector512.FusedMultiplyAdd(w3, x3, a0), Vector512.FusedMultiplyAdd(w3, x5, a1), Vector512.FusedMultiplyAdd(w3, x7, a2), Vector512.FusedMultiplyAdd(w3, x9, a3));
        var w4 = Vector512.Load(w + 64);
        (a0, a1, a2, a3) = (Vector512.FusedMultiplyAdd(w4, x4, a0), Vector512.FusedMultiplyAdd(w4, x6, a1), Vector512.FusedMultiplyAdd(w4, x8, a2), Vector512.FusedMultiplyAdd(w4, x10, a3));
    }

    private static int Blocks16(int count) => (count + Lanes - 1) / Lanes;

    /// <summary>
    /// Rows [0, rows) of a 16×16 block: <paramref name="count"/> floats of source row l (<paramref name="stride"/> apart),
    /// zeros past them; rows from <paramref name="rows"/> on are zeros.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowsIn(float* square, float* source, long stride, int rows, int count)
    {
        var mask = MaskedTile8.Mask(count);
        for (int l = 0; l < rows; l++) Avx512F.MaskLoad(source + l * stride, mask, Vector512<float>.Zero).Store(square + l * Lanes);
        for (int l = rows; l < Lanes; l++) Vector512<float>.Zero.Store(square + l * Lanes);
    }

    /// <summary>v[l] = source[offsets[l]] (two 8-lane AVX2 gathers: .NET has no 16-lane one).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Gather(float* source, Vector512<int> offsets) =>
        Vector512.Create(Avx2.GatherVector256(source, offsets.GetLower(), 4), Avx2.GatherVector256(source, offsets.GetUpper(), 4));

    /// <summary>
    /// The thread's scratch, grown to <paramref name="length"/> floats; X's zero border (the padding of the padded
    /// <paramref name="layout"/>: hp, wp, pt, pl, h, w) cleared unless the scratch already held that layout.
    /// </summary>
    private static float* Scratch(long length, (int Hp, int Wp, int Top, int Left, int H, int W) layout)
    {
        var buffer = _scratch;
        if (buffer is null || buffer.Length < length + Lanes)
        {
            _scratch = buffer = GC.AllocateUninitializedArray<float>(checked((int)length + Lanes), pinned: true);
            _layout = default;
        }
        // 64-byte aligned: every vector of X, W and Y one cache line.
        float* xt = (float*)(((nint)Unsafe.AsPointer(ref buffer[0]) + 63) & ~(nint)63);
        if (_layout != layout)
        {
            var (hp, wp, top, left, h, w) = layout;
            PanelCopy.Zero(xt, top * wp * Lanes);
            for (int iy = 0; iy < h; iy++)
            {
                float* row = xt + (long)(top + iy) * wp * Lanes;
                PanelCopy.Zero(row, left * Lanes);
                PanelCopy.Zero(row + (left + w) * Lanes, (wp - left - w) * Lanes);
            }
            PanelCopy.Zero(xt + (long)(top + h) * wp * Lanes, (hp - top - h) * wp * Lanes);
            _layout = layout;
        }
        return xt;
    }
}

/// <summary>Depthwise weights laid out for <see cref="DepthwiseSmallMaps"/> (pinned, from a 64-byte boundary).</summary>
public sealed unsafe class PackedDepthwiseWeights
{
    private readonly float[] _data;
    private readonly int _start;

    internal PackedDepthwiseWeights(long floats)
    {
        _data = GC.AllocateArray<float>(checked((int)floats + 16), pinned: true);
        _start = (int)((64 - (nint)Unsafe.AsPointer(ref _data[0]) % 64) % 64 / sizeof(float));
    }

    /// <summary>The first packed float.</summary>
    public float* Pointer => (float*)Unsafe.AsPointer(ref _data[_start]);
}
