using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using NanoCam.Cpu.Threading;

namespace NanoCam.Cpu.Simd.Conv;

/// <summary>
/// Forward 3×3, stride-1, undilated convolution of one image by Winograd F(4×4, 3×3), the products fused with the
/// output transform (no M matrix in memory): a 4×4 output tile Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A from a 6×6 input tile d,
/// by Toom-Cook at the points 0, −1, 1, ½, −2 and ∞:
///   Aᵀ = [1 1 1 1 1 0; 0 −1 1 ½ −2 0; 0 1 1 ¼ 4 0; 0 −1 1 ⅛ −8 1],
///   G = [1 0 0; −⅓ ⅓ −⅓; ⅓ ⅓ ⅓; −16⁄15 −8⁄15 −4⁄15; 1⁄15 −2⁄15 4⁄15; 0 0 1],
///   Bᵀ = [1 −1.5 −2 1.5 1 0; 0 1 −2.5 ½ 1 0; 0 −1 ½ 2.5 1 0; 0 −2 −1 2 1 0; 0 ½ −1 −½ 1 0; 0 1 −1.5 −2 1.5 1]
/// (Lavin &amp; Gray 2016's construction; these points were picked by a float32 simulation, 32 random channels: their
/// largest error a third of the classic 0, ±1, ±2, ∞'s): 36 products per 16 outputs against the direct sum's 144, and against
/// F(2×2)'s 64. For maps at most 64 wide (4·16 tile columns), sixteen tiles share a vector: a group is ⌊16/TW⌋ whole tile
/// rows (TW tile columns), lane r·TW + tx. Per call:
///   V_ξ[c, lanes] = (Bᵀ d B)_ξ, [group][ξ][c][16]              (inputs; each index a run of channels)
///   for each 8-channel block (each index a run of blocks): its U_ξ[k, c] = (G g Gᵀ)_ξ as [ξ][c][k mod 8], then
///   per pair of groups M_ξ = U_ξ V_ξ in 16 registers, 36 times, into an L1 scratch, and Y = Aᵀ M A + bias straight
///   into the output rows.
/// The inputs first go into the 24 phase planes Z_{a,j}[ty][tx] = x_padded[4ty + a, 4tx + j] (a &lt; 4, j &lt; 6), so that a
/// tile element (i, j) of a group's lanes is one contiguous load. A split changes no sum: an index owns whole channels.
/// U is 4× the weights (2.4 MB at 64 → 256 channels), so it is made per 8-channel block just before that block's products,
/// into the thread's own scratch (36 × C × 8 floats, in L2), never for the whole layer: kept in full between calls (with
/// a bitwise check of the weights) it ran 2.2× slower in a whole SqueezeNet pass than when timed alone, as the layers'
/// U, weights and copies no longer fit the caches. Scratch grows on demand and is then reused: a steady call allocates nothing.
/// </summary>
public sealed unsafe class Winograd4x4 : IParallelBody
{
    private const int Lanes = 16, Positions = 36, KBlock = 8;

    /// <summary>Floats of one block's M scratch for one group: 8 channels × 36 positions × 16 lanes.</summary>
    private const int MFloats = KBlock * Positions * Lanes;

    private float[] _v = [];

    /// <summary>
    /// Each thread's scratch (phase planes; a block's U and M): an index's scratch lives only while it runs, so indices
    /// may outnumber threads (a helper that wakes late still finds some) without a buffer each.
    /// </summary>
    [ThreadStatic] private static float[]? t_scratch;
    private int[] _indices = [], _stepArray = [];
    private readonly float[] _zeroArray = GC.AllocateArray<float>(KBlock, pinned: true);
    private int* _steps;
    private float* _zeros;
    private Conv2dGeometry _g;
    private float* _x, _y, _w, _bias, _vBase;
    private int* _outputIndex;
    private int _th, _tw, _rowsPerGroup, _groups, _kBlocks, _cPadded, _inputTasks, _blockTasks, _columnVectors, _phase;
    private long _zPlane, _taskFloats, _uPosition, _vPosition;

    /// <summary>Most input channels: the rounding error grows with the sum's length (against the direct sum, relative to
    /// the output's largest magnitude, random data: 4.5e-6 at 32 and 6e-6 at 64 channels, 1.7e-5 at 256), and F(2×2)'s is 7e-7.</summary>
    private const int MaxInputChannels = 64;

    /// <summary>
    /// Whether <see cref="Forward"/> takes this geometry: one image, one group, a 3×3 stride-1 undilated kernel, 16 to
    /// <see cref="MaxInputChannels"/> input and at least 16 output channels, an output 8 to 64 wide and at least 8 high
    /// (smaller maps leave most lanes of a 16-tile group empty), AVX-512.
    /// </summary>
    public static bool Applies(in Conv2dGeometry g) =>
        Avx512F.IsSupported && g.Batch == 1 && g.Groups == 1
        && g.KernelHeight == 3 && g.KernelWidth == 3 && g.StrideHeight == 1 && g.StrideWidth == 1
        && g.DilationHeight == 1 && g.DilationWidth == 1
        && g.InputChannels is >= 16 and <= MaxInputChannels && g.OutputChannels >= 16
        && g.OutputWidth is >= 8 and <= 4 * Lanes && g.OutputHeight >= 8;

    /// <summary>y = conv(x, w) + bias for the one image of <paramref name="g"/> (NCHW; bias may be null).</summary>
    public void Forward(in Conv2dGeometry g, float* y, float* x, float* w, float* bias, CpuThreadPool? pool)
    {
        if (!Applies(g)) throw new ArgumentException($"Winograd F(4×4, 3×3): {g} does not run here");
        long direct = (long)g.OutputChannels * g.OutputHeight * g.OutputWidth * g.InputChannels * 9;
        if (pool is not null && !pool.Splits(direct)) pool = null;
        int c = g.InputChannels, k = g.OutputChannels;
        _th = (g.OutputHeight + 3) / 4;
        _tw = (g.OutputWidth + 3) / 4;
        _rowsPerGroup = Lanes / _tw;
        _groups = (_th + _rowsPerGroup - 1) / _rowsPerGroup;
        _kBlocks = (k + KBlock - 1) / KBlock;
        _cPadded = (c + 1) & ~1;
        // Several indices a thread (TasksFor), taken in turn: under load a helper that wakes late still gets a share.
        _inputTasks = pool is null ? 1 : pool.TasksFor(direct, c);
        _blockTasks = pool is null ? 1 : pool.TasksFor(direct, _kBlocks);
        _columnVectors = (g.OutputWidth + Lanes - 1) / Lanes;
        // A phase plane: rows 0..th written, then the rows the last group's spare lanes read (never stored), and the
        // 16 floats the last row's store runs past.
        _zPlane = (long)(_groups * _rowsPerGroup + 2) * _tw + Lanes;
        long zFloats = 24 * _zPlane;
        _uPosition = Skew((long)_cPadded * KBlock);
        // Phase 0 uses the phase planes; phase 1 a block's U, then the M scratch of two groups.
        _taskFloats = Math.Max(zFloats, Positions * _uPosition + 2L * MFloats);
        _vPosition = Skew((long)c * Lanes);
        Grow(ref _v, _groups * Positions * _vPosition);
        if (_indices.Length < _rowsPerGroup * _columnVectors * Lanes) _indices = GC.AllocateUninitializedArray<int>(_rowsPerGroup * _columnVectors * Lanes, pinned: true);
        _g = g;
        _x = x;
        _y = y;
        _w = w;
        _bias = bias;
        _vBase = Pointer(_v);
        _outputIndex = (int*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_indices));
        if (_stepArray.Length < c)
        {
            _stepArray = GC.AllocateUninitializedArray<int>(c, pinned: true);
            for (int i = 0; i < c; i++) _stepArray[i] = i * Lanes;
        }
        _steps = (int*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_stepArray));
        _zeros = Pointer(_zeroArray);
        // Output permutation: lane e of row vector q (column 16q + e) takes lane r·TW + 4q + ⌊e/4⌋ of o[i][e mod 4];
        // bit 4 picks the odd column of each pair (see WriteRows).
        for (int r = 0; r < _rowsPerGroup; r++)
        for (int q = 0; q < _columnVectors; q++)
        for (int e = 0; e < Lanes; e++)
            _outputIndex[(r * _columnVectors + q) * Lanes + e] = ((e & 1) << 4) | ((r * _tw + 4 * q + (e >> 2)) & 15);
        for (_phase = 0; _phase < 2; _phase++)
        {
            int tasks = _phase == 0 ? _inputTasks : _blockTasks;
            if (pool is null) for (int t = 0; t < tasks; t++) Execute(t);
            else pool.For(tasks, this);
        }
    }

    /// <summary>
    /// The distance between two positions' matrices: a whole and odd number of cache lines, so that the 36 streams a
    /// transform writes at once fall in different cache sets (as WinogradConv's; 64 channels × 16 lanes is 4 KB).
    /// </summary>
    private static long Skew(long floats)
    {
        long lines = (floats + 15) / 16;
        return 16 * (lines % 2 == 0 ? lines + 1 : lines);
    }

    private static void Grow(ref float[] buffer, long length)
    {
        if (buffer.Length < length) buffer = GC.AllocateUninitializedArray<float>(checked((int)length), pinned: true);
    }

    private static float* Pointer(float[] buffer) => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));

    private static (int First, int End) Split(int count, int task, int tasks) =>
        ((int)((long)count * task / tasks), (int)((long)count * (task + 1) / tasks));

    /// <summary>Phase 0: index task's run of input channels; phase 1: its run of output-channel blocks (scratch: the thread's own).</summary>
    public void Execute(int task)
    {
        if (t_scratch is null || t_scratch.Length < _taskFloats) t_scratch = GC.AllocateUninitializedArray<float>(checked((int)_taskFloats), pinned: true);
        float* scratch = Pointer(t_scratch);
        if (_phase == 0)
        {
            var (c0, c1) = Split(_g.InputChannels, task, _inputTasks);
            new Span<float>(scratch, (int)(24 * _zPlane)).Clear();
            for (int c = c0; c < c1; c++) Inputs(c, scratch);
        }
        else
        {
            var (k0, k1) = Split(_kBlocks, task, _blockTasks);
            for (int kb = k0; kb < k1; kb++)
            {
                Filters(kb, scratch);
                Block(kb, scratch, scratch + Positions * _uPosition);
            }
        }
    }

    /// <summary>U for output channels [8kb, 8kb + 8) (zeros past K) and every input channel into u, two channels a vector.</summary>
    private void Filters(int kb, float* uBlock)
    {
        int c = _g.InputChannels, k = _g.OutputChannels, cp = _cPadded;
        var lane = Vector256<int>.Indices;
        var kk = Vector256.Create(kb * KBlock) + lane;
        var valid = Vector256.LessThan(kk, Vector256.Create(k));
        var rows = Vector256.ConditionalSelect(valid, kk, Vector256<int>.Zero) * Vector256.Create(c * 9);
        Vector512<float>* x = stackalloc Vector512<float>[18];
        for (int c0 = 0; c0 < cp; c0 += 2)
        {
            // Lanes 0..7: channel c0, filters 8kb..8kb+7; lanes 8..15 channel c0 + 1 (zeros past C).
            var lo = rows + Vector256.Create(c0 * 9);
            bool second = c0 + 1 < c;
            var hi = second ? lo + Vector256.Create(9) : lo;
            var loMask = valid.AsSingle();
            var hiMask = second ? loMask : Vector256<float>.Zero;
            float* u = uBlock + c0 * KBlock;
            long uStride = _uPosition;
            // X = G g column by column, then each row of X through G again.
            for (int s = 0; s < 3; s++)
                GApply(Tap(_w + s, lo, hi, loMask, hiMask), Tap(_w + 3 + s, lo, hi, loMask, hiMask), Tap(_w + 6 + s, lo, hi, loMask, hiMask),
                    out x[s], out x[3 + s], out x[6 + s], out x[9 + s], out x[12 + s], out x[15 + s]);
            for (int a = 0; a < 6; a++)
            {
                GApply(x[3 * a], x[3 * a + 1], x[3 * a + 2], out var u0, out var u1, out var u2, out var u3, out var u4, out var u5);
                float* row = u + 6 * a * uStride;
                u0.Store(row); u1.Store(row + uStride); u2.Store(row + 2 * uStride);
                u3.Store(row + 3 * uStride); u4.Store(row + 4 * uStride); u5.Store(row + 5 * uStride);
            }
        }
    }

    /// <summary>Tap t of 16 filters (w = weight + t): the low half at the float offsets lo, the high half at hi, masked.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Tap(float* w, Vector256<int> lo, Vector256<int> hi, Vector256<float> loMask, Vector256<float> hiMask) =>
        Vector512.Create(Avx2.GatherVector256(w, lo, 4) & loMask, Avx2.GatherVector256(w, hi, 4) & hiMask);

    /// <summary>G·(g0, g1, g2): g0, (g1 − g0 − g2)/3, (g0 + g1 + g2)/3, −(16g0 + 8g1 + 4g2)/15, (g0 − 2g1 + 4g2)/15, g2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GApply(Vector512<float> g0, Vector512<float> g1, Vector512<float> g2,
        out Vector512<float> u0, out Vector512<float> u1, out Vector512<float> u2, out Vector512<float> u3, out Vector512<float> u4, out Vector512<float> u5)
    {
        var third = Vector512.Create(1f / 3);
        var s = g0 + g2;
        u0 = g0;
        u1 = (g1 - s) * third;
        u2 = (g1 + s) * third;
        u3 = (g0 * Vector512.Create(16f) + g1 * Vector512.Create(8f) + g2 * Vector512.Create(4f)) * Vector512.Create(-1f / 15);
        u4 = (g0 - g1 * Vector512.Create(2f) + g2 * Vector512.Create(4f)) * Vector512.Create(1f / 15);
        u5 = g2;
    }

    /// <summary>
    /// Bᵀ·(z0..z5): z0 + z4 + 1.5(z3 − z1) − 2z2, z1 + z4 + ½z3 − 2.5z2, z4 − z1 + ½z2 + 2.5z3, z4 − z2 + 2(z3 − z1),
    /// z4 − z2 + ½(z1 − z3), z1 + z5 + 1.5(z4 − z2) − 2z3.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BtApply(Vector512<float> z0, Vector512<float> z1, Vector512<float> z2, Vector512<float> z3, Vector512<float> z4, Vector512<float> z5,
        out Vector512<float> o0, out Vector512<float> o1, out Vector512<float> o2, out Vector512<float> o3, out Vector512<float> o4, out Vector512<float> o5)
    {
        var half = Vector512.Create(0.5f);
        var two = Vector512.Create(2f);
        var onePointFive = Vector512.Create(1.5f);
        var twoPointFive = Vector512.Create(2.5f);
        var c = z4 - z2;
        o0 = z0 + z4 + (z3 - z1) * onePointFive - z2 * two;
        o1 = z1 + z4 + z3 * half - z2 * twoPointFive;
        o2 = z4 - z1 + z2 * half + z3 * twoPointFive;
        o3 = c + (z3 - z1) * two;
        o4 = c + (z1 - z3) * half;
        o5 = z1 + z5 + c * onePointFive - z3 * two;
    }

    /// <summary>Aᵀ·(z0..z5): z0 + z1 + z2 + z3 + z4, z2 − z1 + ½z3 − 2z4, z1 + z2 + ¼z3 + 4z4, z2 − z1 + ⅛z3 − 8z4 + z5.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AtApply(Vector512<float> z0, Vector512<float> z1, Vector512<float> z2, Vector512<float> z3, Vector512<float> z4, Vector512<float> z5,
        out Vector512<float> o0, out Vector512<float> o1, out Vector512<float> o2, out Vector512<float> o3)
    {
        var s = z1 + z2;
        var d = z2 - z1;
        o0 = z0 + s + z3 + z4;
        o1 = d + z3 * Vector512.Create(0.5f) - z4 * Vector512.Create(2f);
        o2 = s + z3 * Vector512.Create(0.25f) + z4 * Vector512.Create(4f);
        o3 = d + z3 * Vector512.Create(0.125f) - z4 * Vector512.Create(8f) + z5;
    }

    /// <summary>
    /// V for input channel c: the channel's phase planes Z_{a,j} (a padded input row 4ty + a split by column mod 4, with
    /// the two overlapping phases j = 4, 5), then per group the 36 tile elements as contiguous loads and Bᵀ d B.
    /// </summary>
    private void Inputs(int c, float* z)
    {
        var g = _g;
        int h = g.InputHeight, w = g.InputWidth, pt = g.PadTop, pl = g.PadLeft, tw = _tw;
        long zPlane = _zPlane;
        float* plane = _x + (long)c * h * w;
        var lane = Vector512<int>.Indices;
        // Padded column p = 16q + lane of a row holds x[iy, p − pl] where 0 ≤ p − pl < w.
        var m0 = Inside(lane, pl, w);
        var m1 = Inside(lane + Vector512.Create(16), pl, w);
        var m2 = Inside(lane + Vector512.Create(32), pl, w);
        var m3 = Inside(lane + Vector512.Create(48), pl, w);
        var m4 = Inside(lane + Vector512.Create(64), pl, w);
        for (int ty = 0; ty <= _th; ty++)
        for (int a = 0; a < 4; a++)
        {
            int iy = 4 * ty + a - pt;
            float* dst = z + a * 6 * zPlane + (long)ty * tw;
            if ((uint)iy >= (uint)h)
            {
                for (int j = 0; j < 6; j++) Vector512<float>.Zero.Store(dst + j * zPlane);
                continue;
            }
            float* row = plane + (long)iy * w - pl;
            var v0 = Avx512F.MaskLoad(row, m0, Vector512<float>.Zero);
            var v1 = Avx512F.MaskLoad(row + 16, m1, Vector512<float>.Zero);
            var v2 = Avx512F.MaskLoad(row + 32, m2, Vector512<float>.Zero);
            var v3 = Avx512F.MaskLoad(row + 48, m3, Vector512<float>.Zero);
            var v4 = Avx512F.MaskLoad(row + 64, m4, Vector512<float>.Zero);
            for (int j = 0; j < 6; j++)
            {
                // Lane tx takes padded column s = 4tx + j: from v0|v1 below 32, v2|v3 below 64, else v4.
                var s = lane * Vector512.Create(4) + Vector512.Create(j);
                var low = Avx512F.PermuteVar16x32x2(v0, s, v1);
                var mid = Avx512F.PermuteVar16x32x2(v2, s, v3);
                var top = Avx512F.PermuteVar16x32(v4, s);
                var pick = Vector512.ConditionalSelect(Vector512.LessThan(s, Vector512.Create(32)).AsSingle(), low,
                    Vector512.ConditionalSelect(Vector512.LessThan(s, Vector512.Create(64)).AsSingle(), mid, top));
                pick.Store(dst + j * zPlane);
            }
        }
        int cCount = g.InputChannels, rpg = _rowsPerGroup;
        Vector512<float>* t = stackalloc Vector512<float>[36];
        for (int group = 0; group < _groups; group++)
        {
            long ty0 = (long)group * rpg;
            for (int i = 0; i < 6; i++)
            {
                // Element (i, j) of lane r·TW + tx: Z_{i mod 4, j}[ty0 + r + ⌊i/4⌋][tx], one run of 16 floats.
                float* src = z + (i & 3) * 6 * zPlane + (ty0 + (i >> 2)) * tw;
                BtApply(Vector512.Load(src), Vector512.Load(src + zPlane), Vector512.Load(src + 2 * zPlane),
                    Vector512.Load(src + 3 * zPlane), Vector512.Load(src + 4 * zPlane), Vector512.Load(src + 5 * zPlane),
                    out t[6 * i], out t[6 * i + 1], out t[6 * i + 2], out t[6 * i + 3], out t[6 * i + 4], out t[6 * i + 5]);
            }
            long positionStride = _vPosition;
            float* v = _vBase + group * Positions * positionStride + (long)c * Lanes;
            for (int b = 0; b < 6; b++)
            {
                BtApply(t[b], t[6 + b], t[12 + b], t[18 + b], t[24 + b], t[30 + b], out var o0, out var o1, out var o2, out var o3, out var o4, out var o5);
                o0.Store(v + b * positionStride);
                o1.Store(v + (6 + b) * positionStride);
                o2.Store(v + (12 + b) * positionStride);
                o3.Store(v + (18 + b) * positionStride);
                o4.Store(v + (24 + b) * positionStride);
                o5.Store(v + (30 + b) * positionStride);
            }
        }
    }

    private static Vector512<float> Inside(Vector512<int> column, int pl, int w) =>
        (Vector512.GreaterThanOrEqual(column, Vector512.Create(pl)) & Vector512.LessThan(column, Vector512.Create(pl + w))).AsSingle();

    /// <summary>Output channels [8kb, 8kb + 8): per pair of groups the 36 products into the M scratch, then the output transform.</summary>
    private void Block(int kb, float* u, float* m)
    {
        int c = _g.InputChannels;
        long positionStride = _vPosition, groupFloats = Positions * positionStride, uPosition = _uPosition;
        for (int group = 0; group < _groups; group += 2)
        {
            float* v = _vBase + group * groupFloats;
            bool two = group + 1 < _groups;
            for (int p = 0; p < Positions; p++)
            {
                // M_ξ of 8 channels (channel kk at kk·36·16) for one or two groups, the steps c at 16c.
                if (two) BroadcastFma.Two(v + p * positionStride, _steps, c, groupFloats, u + p * uPosition, _zeros, m + p * Lanes, Positions * Lanes, MFloats);
                else BroadcastFma.One(v + p * positionStride, _steps, c, u + p * uPosition, _zeros, m + p * Lanes, Positions * Lanes);
            }
            Outputs(kb, group, m);
            if (two) Outputs(kb, group + 1, m + MFloats);
        }
    }

    /// <summary>Y = Aᵀ M A + bias for the block's channels (below K) and one group's tiles, into the output rows.</summary>
    private void Outputs(int kb, int group, float* m)
    {
        var g = _g;
        int oh = g.OutputHeight, ow = g.OutputWidth, rpg = _rowsPerGroup, ty0 = group * rpg, rows = Math.Min(rpg, _th - ty0);
        int kEnd = Math.Min(KBlock, g.OutputChannels - kb * KBlock);
        long plane = (long)oh * ow;
        Vector512<float>* t = stackalloc Vector512<float>[24];
        Vector512<float>* o = stackalloc Vector512<float>[16];
        for (int kk = 0; kk < kEnd; kk++)
        {
            int k = kb * KBlock + kk;
            float* mk = m + kk * Positions * Lanes;
            for (int a = 0; a < 6; a++)
            {
                float* r = mk + 6 * a * Lanes;
                AtApply(Vector512.Load(r), Vector512.Load(r + Lanes), Vector512.Load(r + 2 * Lanes), Vector512.Load(r + 3 * Lanes),
                    Vector512.Load(r + 4 * Lanes), Vector512.Load(r + 5 * Lanes), out t[4 * a], out t[4 * a + 1], out t[4 * a + 2], out t[4 * a + 3]);
            }
            var bias = Vector512.Create(_bias == null ? 0f : _bias[k]);
            for (int j = 0; j < 4; j++)
            {
                AtApply(t[j], t[4 + j], t[8 + j], t[12 + j], t[16 + j], t[20 + j], out var o0, out var o1, out var o2, out var o3);
                o[j] = o0 + bias;
                o[4 + j] = o1 + bias;
                o[8 + j] = o2 + bias;
                o[12 + j] = o3 + bias;
            }
            WriteRows(_y + k * plane, o, ty0, rows, oh, ow);
        }
    }

    /// <summary>
    /// The tiles' 4×4 outputs o[4i + j] (lane r·TW + tx) into rows 4(ty0 + r) + i: column 16q + e of a row is lane
    /// r·TW + 4q + ⌊e/4⌋ of o[4i + (e mod 4)], two two-source permutes and a select per 16 columns.
    /// </summary>
    private void WriteRows(float* y, Vector512<float>* o, int ty0, int rows, int oh, int ow)
    {
        var lane = Vector512<int>.Indices;
        var even = Vector512.Equals(lane & Vector512.Create(2), Vector512<int>.Zero).AsSingle();
        int vectors = _columnVectors;
        for (int r = 0; r < rows; r++)
        for (int i = 0; i < 4; i++)
        {
            int oy = 4 * (ty0 + r) + i;
            if (oy >= oh) break;
            float* row = y + (long)oy * ow;
            var a = o[4 * i];
            var b = o[4 * i + 1];
            var c = o[4 * i + 2];
            var d = o[4 * i + 3];
            for (int q = 0; q < vectors; q++)
            {
                var index = Vector512.Load(_outputIndex + (r * vectors + q) * Lanes);
                var value = Vector512.ConditionalSelect(even, Avx512F.PermuteVar16x32x2(a, index, b), Avx512F.PermuteVar16x32x2(c, index, d));
                int count = ow - Lanes * q;
                if (count >= Lanes) value.Store(row + Lanes * q);
                else Avx512F.MaskStore(row + Lanes * q, Vector512.LessThan(lane, Vector512.Create(count)).AsSingle(), value);
            }
        }
    }
}
