using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NanoCam.Cpu.Simd.Conv;

/// <summary>
/// The input and output phases for maps of at most 8 tile columns (the 8-lane transforms of WinogradTransforms.Narrow),
/// straight from and to the tensors: a row is one 16-float load with the lanes off the map zeroed (a masked load at
/// the tensor's ends) and one masked store, so no padded copy and no per-row span calls; consecutive tile rows share
/// their two common input rows' row pass, and maps of at most 4 tile columns run two tile rows per vector.
/// </summary>
public sealed unsafe partial class WinogradConv
{
    /// <summary>
    /// The lanes of mask from p, zero elsewhere: where all 16 floats lie in the tensor's [lo, hi), a plain load and the
    /// mask (measured with cold caches, masked loads that miss ran slower: the input phase 1.7–2.0×), else a
    /// masked load, which reads nothing outside the mask.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Fetch(float* p, Vector512<float> mask, float* lo, float* hi) =>
        p >= lo && p + WinogradTransforms.Lanes <= hi ? Vector512.Load(p) & mask : Avx512F.MaskLoad(p, mask, Vector512<float>.Zero);

    private sealed partial class Job
    {
        /// <summary>
        /// V_ξ[c, t] for input channels [c0, c1) of the block. Lane j of a row's first vector holds padded column j
        /// (source column j − pl, zero outside the map); a 16-column row's columns 16 and 17 come in a second vector.
        /// </summary>
        private void InputsNarrow(int c0, int c1)
        {
            var g = G;
            int h = g.InputHeight, w = g.InputWidth, pt = g.PadTop, pl = g.PadLeft, tw = TileColumns;
            bool pairs = tw <= WinogradTransforms.PairColumns, wide = 2 * tw + 2 > WinogradTransforms.Lanes;
            var k0 = WinogradTransforms.NarrowTaps(0, tw);
            var k1 = WinogradTransforms.NarrowTaps(1, tw);
            var k2 = WinogradTransforms.NarrowTaps(2, tw);
            var k3 = WinogradTransforms.NarrowTaps(3, tw);
            var lane = Vector512<int>.Indices;
            var first = Columns(lane, pl, w);
            var second = Columns(lane + Vector512.Create(WinogradTransforms.Lanes), pl, w);
            float* v = Pointer(Owner._v);
            long vStride = VStride, ps = VPosition, imageFloats = (long)g.InputChannels * h * w;
            float* lo = X + First * imageFloats, hi = X + End * imageFloats;
            for (int c = c0; c < c1; c++)
            for (int row = 0; row < Rows;)
            {
                int globalRow = Row0 + row, n = First + globalRow / TileRows, ty0 = globalRow % TileRows;
                int run = Math.Min(TileRows - ty0, Rows - row);
                // The plane shifted by the left pad: lane j of a load at source + y·w reads padded column j.
                float* source = X + ((long)n * g.InputChannels + Group * g.InputChannelsPerGroup + c) * h * w - pl;
                // A short last group spills into the next row's slots (written after) or the spare.
                float* vRow = v + c * vStride + (long)row * tw;
                int y = 2 * ty0 - pt;
                if (pairs)
                {
                    // Tile rows r and r + 1 in one vector: input row y + i of the first, y + 2 + i of the second (past
                    // the run's end it fills slots written after, or the spare).
                    for (int r = 0; r < run; r += 2, y += 4)
                    {
                        var l0 = Row(source, y, h, w, first, lo, hi);
                        var l1 = Row(source, y + 1, h, w, first, lo, hi);
                        var l2 = Row(source, y + 2, h, w, first, lo, hi);
                        var l3 = Row(source, y + 3, h, w, first, lo, hi);
                        var l4 = Row(source, y + 4, h, w, first, lo, hi);
                        var l5 = Row(source, y + 5, h, w, first, lo, hi);
                        WinogradTransforms.RowNarrow(l0, l2, k0, k1, k2, k3, out var a0, out var a1, out var a2, out var a3);
                        WinogradTransforms.RowNarrow(l1, l3, k0, k1, k2, k3, out var b0, out var b1, out var b2, out var b3);
                        WinogradTransforms.RowNarrow(l2, l4, k0, k1, k2, k3, out var d0, out var d1, out var d2, out var d3);
                        WinogradTransforms.RowNarrow(l3, l5, k0, k1, k2, k3, out var e0, out var e1, out var e2, out var e3);
                        WinogradTransforms.ColumnsNarrow(vRow + (long)r * tw, ps, a0, a1, a2, a3, b0, b1, b2, b3, d0, d1, d2, d3, e0, e1, e2, e3);
                    }
                }
                else
                {
                    // The row pass of input rows y + 2 and y + 3 serves this tile row and, as rows y and y + 1, the next.
                    WinogradTransforms.RowNarrow(Row(source, y, h, w, first, lo, hi), wide ? Row(source + WinogradTransforms.Lanes, y, h, w, second, lo, hi) : default,
                        k0, k1, k2, k3, out var a0, out var a1, out var a2, out var a3);
                    WinogradTransforms.RowNarrow(Row(source, y + 1, h, w, first, lo, hi), wide ? Row(source + WinogradTransforms.Lanes, y + 1, h, w, second, lo, hi) : default,
                        k0, k1, k2, k3, out var b0, out var b1, out var b2, out var b3);
                    for (int r = 0; r < run; r++, y += 2)
                    {
                        WinogradTransforms.RowNarrow(Row(source, y + 2, h, w, first, lo, hi), wide ? Row(source + WinogradTransforms.Lanes, y + 2, h, w, second, lo, hi) : default,
                            k0, k1, k2, k3, out var d0, out var d1, out var d2, out var d3);
                        WinogradTransforms.RowNarrow(Row(source, y + 3, h, w, first, lo, hi), wide ? Row(source + WinogradTransforms.Lanes, y + 3, h, w, second, lo, hi) : default,
                            k0, k1, k2, k3, out var e0, out var e1, out var e2, out var e3);
                        WinogradTransforms.ColumnsNarrow(vRow + (long)r * tw, ps, a0, a1, a2, a3, b0, b1, b2, b3, d0, d1, d2, d3, e0, e1, e2, e3);
                        (a0, a1, a2, a3, b0, b1, b2, b3) = (d0, d1, d2, d3, e0, e1, e2, e3);
                    }
                }
                row += run;
            }
        }

        /// <summary>Lanes j (padded columns, counted from <paramref name="lane"/>) that fall on the map: pl ≤ j &lt; pl + w.</summary>
        private static Vector512<float> Columns(Vector512<int> lane, int pl, int w) =>
            (Vector512.GreaterThanOrEqual(lane, Vector512.Create(pl)) & Vector512.LessThan(lane, Vector512.Create(pl + w))).AsSingle();

        /// <summary>Padded row y (the source already shifted by the left pad), the lanes of mask; zero above and below the map.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Row(float* source, int y, int h, int w, Vector512<float> mask, float* lo, float* hi) =>
            (uint)y < (uint)h ? Fetch(source + (long)y * w, mask, lo, hi) : Vector512<float>.Zero;

        /// <summary>
        /// Y = Aᵀ M A + bias for output channels [k0, k1): a tile row's two output rows stored (or added) straight into Y by
        /// masked stores; with two tile rows per vector, lanes from 2tw on hold the second one's rows. Accumulating, the
        /// next tile row's Y is loaded before this one's is stored, so no load follows a store to the same 64 bytes (a
        /// 14-float row's store covers the start of the row below): a load cannot take its value from a masked store
        /// and would wait until it is written.
        /// </summary>
        private void OutputsNarrow(int k0, int k1)
        {
            var g = G;
            int oh = g.OutputHeight, ow = g.OutputWidth, tw = TileColumns, tileRows = TileRows, rows = Rows, shift = 2 * tw;
            int kg = g.OutputChannelsPerGroup, tiles = rows * tw;
            long plane = (long)oh * ow, image = g.OutputChannels * plane, mStride = MPosition;
            bool pairs = tw <= WinogradTransforms.PairColumns, accumulate = Accumulate;
            float* m = Pointer(Owner._m);
            float* lo = Y + First * image, hi = Y + End * image;
            var zero = Vector512<float>.Zero;
            var lane = Vector512<int>.Indices;
            var firstRow = Vector512.LessThan(lane, Vector512.Create(ow)).AsSingle();
            var secondRow = (Vector512.GreaterThanOrEqual(lane, Vector512.Create(shift)) & Vector512.LessThan(lane, Vector512.Create(shift + ow))).AsSingle();
            for (int k = k0; k < k1; k++)
            {
                int channel = Group * kg + k;
                float bias = Bias == null ? 0f : Bias[channel];
                float* planes = Y + channel * plane;
                // Tile row ty of image n; the vector's second tile row (lanes 2tw on) where it is in this block and image.
                int n = First + Row0 / tileRows, ty = Row0 % tileRows;
                bool both = pairs && rows > 1 && ty + 1 < tileRows;
                float* target = planes + n * image + (long)2 * ty * ow;
                Vector512<float> y0 = zero, y1 = zero, y2 = zero, y3 = zero;
                if (accumulate) Load(target, ow, shift, 2 * ty + 1 < oh, both, both && 2 * ty + 3 < oh, firstRow, secondRow, lo, hi, out y0, out y1, out y2, out y3);
                for (int row = 0; row < rows;)
                {
                    WinogradTransforms.OutputNarrow(m + (long)k * tiles + (long)row * tw, mStride, bias, out var top, out var bottom);
                    (y0, y1, y2, y3) = (y0 + top, y1 + bottom, y2 + top, y3 + bottom);
                    bool bottomRow = 2 * ty + 1 < oh, lowest = both && 2 * ty + 3 < oh;
                    float* current = target;
                    bool currentBoth = both;
                    row += both ? 2 : 1;
                    ty += both ? 2 : 1;
                    if (ty == tileRows) (n, ty) = (n + 1, 0);
                    both = pairs && row + 1 < rows && ty + 1 < tileRows;
                    target = planes + n * image + (long)2 * ty * ow;
                    Vector512<float> n0 = zero, n1 = zero, n2 = zero, n3 = zero;
                    if (accumulate && row < rows) Load(target, ow, shift, 2 * ty + 1 < oh, both, both && 2 * ty + 3 < oh, firstRow, secondRow, lo, hi, out n0, out n1, out n2, out n3);
                    else if (row < rows)
                    {
                        // The next tile row's lines, fetched while this one is stored (cold caches: this phase 13–33 % faster).
                        int span = (both ? 4 : 2) * ow;
                        for (int f = 0; f < span; f += WinogradTransforms.Lanes) Sse.Prefetch0(target + f);
                        Sse.Prefetch0(target + span - 1);
                    }
                    Store(current, ow, shift, bottomRow, currentBoth, lowest, firstRow, secondRow, y0, y1, y2, y3);
                    (y0, y1, y2, y3) = (n0, n1, n2, n3);
                }
            }
        }

        /// <summary>
        /// The Y rows a vector covers, from its first output row top (zero where they do not exist): y0 and, where bottom,
        /// y1 the tile row's (lanes [0, ow), firstRow); where both (and lowest), y2 (and y3) the second one's (lanes
        /// [shift, shift + ow), secondRow, shift = 2tw).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Load(float* top, int ow, int shift, bool bottom, bool both, bool lowest, Vector512<float> firstRow, Vector512<float> secondRow,
            float* lo, float* hi, out Vector512<float> y0, out Vector512<float> y1, out Vector512<float> y2, out Vector512<float> y3)
        {
            var zero = Vector512<float>.Zero;
            y0 = Fetch(top, firstRow, lo, hi);
            y1 = bottom ? Fetch(top + ow, firstRow, lo, hi) : zero;
            y2 = both ? Fetch(top + 2 * ow - shift, secondRow, lo, hi) : zero;
            y3 = lowest ? Fetch(top + 3 * ow - shift, secondRow, lo, hi) : zero;
        }

        /// <summary>The existing rows of a vector's <see cref="Load"/> layout, written back.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store(float* top, int ow, int shift, bool bottom, bool both, bool lowest, Vector512<float> firstRow, Vector512<float> secondRow,
            Vector512<float> y0, Vector512<float> y1, Vector512<float> y2, Vector512<float> y3)
        {
            Avx512F.MaskStore(top, firstRow, y0);
            if (bottom) Avx512F.MaskStore(top + ow, firstRow, y1);
            if (both) Avx512F.MaskStore(top + 2 * ow - shift, secondRow, y2);
            if (lowest) Avx512F.MaskStore(top + 3 * ow - shift, secondRow, y3);
        }
    }
}
