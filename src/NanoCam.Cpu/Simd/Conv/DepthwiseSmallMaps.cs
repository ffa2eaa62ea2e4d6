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
/// output channels k0 … k0 + 15: their zero-padded input planes are gathered into X[iy, ix, lane], their weights into
/// W[r, s, lane], then, four output positions at a time,
///   Y[oy, ox, lane] = b[lane] + Σ_r Σ_s W[r, s, lane] · X[sh·oy + dh·r, sw·ox + dw·s, lane]   (r, s in order),
/// the activation is applied to Y, and Y is scattered into the output planes (added to them when accumulating). Each
/// output sums the plane path's terms (padding zeros included) in the plane path's order, in fused multiply-adds.
/// </summary>
public sealed unsafe class DepthwiseSmallMaps : IParallelBody
{
    /// <summary>
    /// Output positions (OH·OW) up to which this kernel runs. Measured against the plane path (1 thread, under load):
    /// 5×5 on 576 channels at 4×4 29 against 166 µs, on 240 at 8×8 37 against 94, stride 2 on 96 at 16×16 → 8×8
    /// 21 against 61; at 16×16 outputs they were even (5×5 on 72: 42 against 48; 3×3 on 88: 36 against 34).
    /// </summary>
    public const int MaxOutputs = 144;

    /// <summary>Padded input positions up to which this kernel runs (3×3 stride 2 from 32×32 ran 75 against 54 µs).</summary>
    public const int MaxInputs = 400;

    private const int Lanes = 16;

    [ThreadStatic] private static float[]? _scratch;

    private Conv2dGeometry _g;
    private float* _y, _x, _w, _bias;
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
    public void Run(in Conv2dGeometry g, float* y, float* x, float* w, float* bias, bool accumulate, ConvEpilogue act, CpuThreadPool? pool)
    {
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
    public void Execute(int block)
    {
        ref readonly var g = ref _g;
        int n = block / _channelBlocks, k0 = block % _channelBlocks * Lanes, lanes = Math.Min(Lanes, g.OutputChannels - k0);
        int h = g.InputHeight, width = g.InputWidth, hw = h * width, oh = g.OutputHeight, ow = g.OutputWidth, ohw = oh * ow;
        int hp = h + g.PadTop + g.PadBottom, wp = width + g.PadLeft + g.PadRight;
        int kh = g.KernelHeight, kw = g.KernelWidth, taps = kh * kw, multiplier = g.OutputChannelsPerGroup;
        float* xt = Scratch((long)(hp * wp + taps + ohw) * Lanes);
        float* wt = xt + (long)hp * wp * Lanes, yt = wt + (long)taps * Lanes;

        // Lane l is output channel k0 + l (missing lanes repeat the last one; their sums are dropped), reading input
        // channel (k0 + l) / multiplier: gathered one input position and one tap at a time.
        var lane = Vector512.Min(Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), Vector512.Create(lanes - 1));
        var channels = lane + Vector512.Create(k0);
        var inputOffsets = channels / Vector512.Create(multiplier) * Vector512.Create(hw);
        var weightOffsets = channels * Vector512.Create(taps);
        float* image = _x + (long)n * g.InputChannels * hw;
        new Span<float>(xt, g.PadTop * wp * Lanes).Clear();
        for (int iy = 0; iy < h; iy++)
        {
            float* row = xt + (long)(g.PadTop + iy) * wp * Lanes;
            new Span<float>(row, g.PadLeft * Lanes).Clear();
            for (int ix = 0; ix < width; ix++)
                Gather(image + iy * width + ix, inputOffsets).Store(row + (g.PadLeft + ix) * Lanes);
            new Span<float>(row + (g.PadLeft + width) * Lanes, g.PadRight * Lanes).Clear();
        }
        new Span<float>(xt + (long)(g.PadTop + h) * wp * Lanes, g.PadBottom * wp * Lanes).Clear();
        for (int t = 0; t < taps; t++) Gather(_w + t, weightOffsets).Store(wt + t * Lanes);
        var bias = _bias == null ? Vector512<float>.Zero : Gather(_bias, channels);

        // Y[oy, ox] = b + Σ_r Σ_s W[r, s] · X[sh·oy + dh·r, sw·ox + dw·s] over the padded map: four positions at a time.
        int sh = g.StrideHeight, sw = g.StrideWidth;
        long rowStep = (long)g.DilationHeight * wp * Lanes, tapStep = (long)g.DilationWidth * Lanes, step = (long)sw * Lanes;
        for (int oy = 0; oy < oh; oy++)
        {
            float* top = xt + (long)oy * sh * wp * Lanes;
            float* y = yt + (long)oy * ow * Lanes;
            int ox = 0;
            for (; ox + 4 <= ow; ox += 4)
            {
                var (a0, a1, a2, a3) = (bias, bias, bias, bias);
                float* wv = wt;
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
        for (int l = 0; l < lanes; l++)
        {
            float* dst = _y + ((long)n * g.OutputChannels + k0 + l) * ohw;
            if (_accumulate) for (int p = 0; p < ohw; p++) dst[p] += yt[p * Lanes + l];
            else if (scalarAct) for (int p = 0; p < ohw; p++) dst[p] = act.Apply(yt[p * Lanes + l]);
            else for (int p = 0; p < ohw; p++) dst[p] = yt[p * Lanes + l];
        }
    }

    /// <summary>v[l] = source[offsets[l]] (two 8-lane AVX2 gathers: .NET has no 16-lane one).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Gather(float* source, Vector512<int> offsets) =>
        Vector512.Create(Avx2.GatherVector256(source, offsets.GetLower(), 4), Avx2.GatherVector256(source, offsets.GetUpper(), 4));

    /// <summary>The thread's scratch, grown to <paramref name="length"/> floats.</summary>
    private static float* Scratch(long length)
    {
        var buffer = _scratch;
        if (buffer is null || buffer.Length < length) _scratch = buffer = GC.AllocateUninitializedArray<float>(checked((int)length), pinned: true);
        return (float*)Unsafe.AsPointer(ref buffer[0]);
    }
}
