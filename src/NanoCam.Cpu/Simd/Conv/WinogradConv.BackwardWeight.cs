using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using NanoCam.Cpu.Threading;

namespace NanoCam.Cpu.Simd.Conv;

/// <summary>
/// The weight gradient of a 3×3, stride-1, undilated convolution by Winograd F(3×3, 2×2) (see
/// WinogradTransforms.Weight): dW[k, c, r, s] = Σ_{n,y,x} dY[n, k, y, x]·X[n, c, y + r − pt, x + s − pl] cut into
/// the forward pass's 2×2 output tiles t, each with its 4×4 input tile. Per block of tile rows,
///   V_ξ[Cg, T] = (Bᵀ D B)_ξ (the forward's input phase),   P_ξ[Kg, T] = (A E Aᵀ)_ξ,   S_ξ[Kg, Cg] += P_ξ · V_ξᵀ,
/// the last as Kg·Cg dot products over the block's tiles per position (RowDots: both operands run along the tiles,
/// and a packed GEMM of this small, shallow shape ran at half speed); after the last block dW[k, c] += Gᵀ S[k, c] G.
/// 16 products per tile pair instead of 36. dY past an odd map's last row or column counts as zero, so the half-used
/// tiles add nothing there. Threads split output channels (dY transform, output) and positions (dot products, each
/// position always on one thread): the sums run in the same order at any thread count.
/// </summary>
public sealed unsafe partial class WinogradConv
{
    private readonly WeightJob _weightJob = new();

    /// <summary>
    /// Input channels per group up to which the weight gradient by Winograd beats the GEMM over the patch matrix.
    /// Measured fastest-of-30, A/B back to back, batch 64, 1 thread: the GAP-CNN's 32 → 64 layer (14×14) ran 1.08–1.18×
    /// faster, its 64 → 128 layer (7×7) 0.8–0.97× (there the 16 sets of K·C dot products and the 5× larger dY transform
    /// outweigh the saved multiplies).
    /// </summary>
    private const int MaxWeightChannels = 32;

    /// <summary>Whether <see cref="BackwardWeight"/> takes this geometry: one <see cref="Forward"/> takes, with at most <see cref="MaxWeightChannels"/> input channels per group.</summary>
    public static bool AppliesBackwardWeight(in Conv2dGeometry g) => Applies(g) && g.InputChannelsPerGroup <= MaxWeightChannels;

    /// <summary>dw += ∂L/∂W from dy and x for images [first, end) of the forward geometry g.</summary>
    public void BackwardWeight(in Conv2dGeometry g, int first, int end, float* dw, float* dy, float* x, CpuThreadPool? pool)
    {
        if (pool is not null && !pool.Splits(DirectWork(g, first, end))) pool = null; // small: the calling thread alone
        int threads = pool?.Threads ?? 1;
        int cg = g.InputChannelsPerGroup, kg = g.OutputChannelsPerGroup;
        int tileRows = (g.OutputHeight + 1) / 2, tileColumns = (g.OutputWidth + 1) / 2;
        int totalRows = (end - first) * tileRows;
        // Tile rows per block: a whole number of 16-tile vectors where the map allows (the dot products' tails are scalar).
        int rowUnit = 16 / Math.Min(tileColumns & -tileColumns, 16); // 16 / gcd(tile columns, 16)
        int rowsPerBlock = WeightBlockTiles / tileColumns;
        if (rowsPerBlock >= rowUnit) rowsPerBlock -= rowsPerBlock % rowUnit;
        rowsPerBlock = Math.Clamp(rowsPerBlock, 1, totalRows);
        int blockTiles = rowsPerBlock * tileColumns;
        int paddedWidth = 32 * ((tileColumns + WinogradTransforms.Lanes - 1) / WinogradTransforms.Lanes) + 2;
        // V and P rows run 16 floats past the block (the last group's spare lanes).
        long stride = blockTiles + WinogradTransforms.Lanes;
        long sPosition = Skew((long)kg * cg), vPosition = Skew(cg * stride), pPosition = Skew(kg * stride);
        long planeFloats = (2L * Math.Min(tileRows, rowsPerBlock) + 2) * paddedWidth;
        // _u holds the sums S (the forward's filter transforms have the same shape), _m the dY transforms P.
        Prepare(threads, Positions * sPosition, Positions * vPosition, Positions * pPosition, planeFloats);
        var inputs = _job;
        inputs.Owner = this;
        inputs.End = end;
        inputs.X = x;
        (inputs.G, inputs.First, inputs.TileRows, inputs.TileColumns, inputs.PaddedWidth, inputs.VStride, inputs.Tasks) =
            (g, first, tileRows, tileColumns, paddedWidth, stride, threads);
        (inputs.VPosition, inputs.PlaneFloats) = (vPosition, planeFloats);
        var job = _weightJob;
        job.Owner = this;
        job.End = end;
        job.DY = dy;
        (job.G, job.First, job.TileRows, job.TileColumns, job.PaddedWidth, job.Stride, job.Tasks) =
            (g, first, tileRows, tileColumns, paddedWidth, stride, threads);
        (job.SPosition, job.VPosition, job.PPosition, job.PlaneFloats) = (sPosition, vPosition, pPosition, planeFloats);
        for (int group = 0; group < g.Groups; group++)
        {
            inputs.Group = job.Group = group;
            job.DW = dw + (long)group * kg * cg * 9;
            for (int row0 = 0; row0 < totalRows; row0 += rowsPerBlock)
            {
                inputs.Row0 = job.Row0 = row0;
                inputs.Rows = job.Rows = Math.Min(rowsPerBlock, totalRows - row0);
                Run(Phase.Inputs, inputs, pool);
                RunWeight(WeightPhase.Gradients, job, pool);
                RunWeight(WeightPhase.Products, job, pool);
            }
            RunWeight(WeightPhase.Weights, job, pool);
        }
    }

    /// <summary>
    /// Tiles per block of the weight gradient (the dot products' length per block): measured on the 32 → 64 layer,
    /// 256 to 512 ran alike; 128 left too many short dot products, 1024 and more let P and V fall out of cache.
    /// </summary>
    private const int WeightBlockTiles = 384;

    private static void RunWeight(WeightPhase phase, WeightJob job, CpuThreadPool? pool)
    {
        job.Phase = phase;
        if (pool is null) for (int i = 0; i < job.Tasks; i++) job.Execute(i);
        else pool.For(job.Tasks, job);
    }

    private enum WeightPhase { Gradients, Products, Weights }

    /// <summary>One phase of the weight gradient's block, split into Tasks ranges (output channels or positions).</summary>
    private sealed class WeightJob : IParallelBody
    {
        public WinogradConv Owner = null!;
        public WeightPhase Phase;
        public Conv2dGeometry G;
        public float* DY, DW;
        public int First, Group, TileRows, TileColumns, PaddedWidth, Row0, Rows, Tasks;
        /// <summary>One past the last image of the call: DY holds images [First, End).</summary>
        public int End;
        public long PlaneFloats, Stride, SPosition, VPosition, PPosition;

        public void Execute(int task)
        {
            switch (Phase)
            {
                case WeightPhase.Gradients:
                    Gradients(Split(G.OutputChannelsPerGroup, task, out int k1), k1, task);
                    break;
                case WeightPhase.Products:
                    Products(Split(Positions, task, out int p1), p1);
                    break;
                default:
                    Weights(Split(G.OutputChannelsPerGroup, task, out int o1), o1);
                    break;
            }
        }

        private int Split(int count, int task, out int end)
        {
            end = (int)((long)count * (task + 1) / Tasks);
            return (int)((long)count * task / Tasks);
        }

        /// <summary>P_ξ[k, t] for output channels [k0, k1) of the block: each tile row's two dY rows, zero past the map, transformed.</summary>
        private void Gradients(int k0, int k1, int task)
        {
            var g = G;
            int oh = g.OutputHeight, ow = g.OutputWidth, pw = PaddedWidth, tw = TileColumns;
            float* top = Pointer(Owner._rows) + (long)task * PlaneFloats, bottom = top + pw;
            float* p = Pointer(Owner._m);
            // Narrow maps (at most 16 columns) load their rows and zero the lanes past the row (masked loads at the
            // tensor's ends, which read nothing past it), so no padded copy is needed.
            var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(ow)).AsSingle();
            long image = (long)g.OutputChannels * oh * ow;
            float* lo = DY + First * image, hi = DY + End * image;
            for (int k = k0; k < k1; k++)
            for (int row = 0; row < Rows; row++)
            {
                int globalRow = Row0 + row, n = First + globalRow / TileRows, ty = globalRow % TileRows;
                float* plane = DY + ((long)n * g.OutputChannels + Group * g.OutputChannelsPerGroup + k) * oh * ow;
                // A short last group spills into the next row's slots (written after) or the spare.
                float* pRow = p + k * Stride + (long)row * tw;
                if (tw <= WinogradTransforms.NarrowLanes)
                {
                    float* r = plane + (long)2 * ty * ow;
                    var upper = Fetch(r, mask, lo, hi);
                    var lower = 2 * ty + 1 < oh ? Fetch(r + ow, mask, lo, hi) : Vector512<float>.Zero;
                    WinogradTransforms.OutputGradientNarrow(pRow, PPosition, upper, lower);
                    continue;
                }
                PadRow(top, plane + (long)2 * ty * ow, ow, pw);
                if (2 * ty + 1 < oh) PadRow(bottom, plane + (long)(2 * ty + 1) * ow, ow, pw);
                else new Span<float>(bottom, pw).Clear();
                for (int tx = 0; tx < tw; tx += WinogradTransforms.Lanes)
                    WinogradTransforms.OutputGradient(pRow + tx, PPosition, top + 2 * tx, bottom + 2 * tx);
            }
        }

        private static void PadRow(float* dst, float* src, int width, int paddedWidth)
        {
            new ReadOnlySpan<float>(src, width).CopyTo(new Span<float>(dst, width));
            new Span<float>(dst + width, paddedWidth - width).Clear();
        }

        /// <summary>S_ξ += P_ξ · V_ξᵀ for positions [p0, p1) (the first block clears S first).</summary>
        private void Products(int p0, int p1)
        {
            int cg = G.InputChannelsPerGroup, kg = G.OutputChannelsPerGroup, tiles = Rows * TileColumns;
            float* s = Pointer(Owner._u), v = Pointer(Owner._v), p = Pointer(Owner._m);
            for (int position = p0; position < p1; position++)
            {
                float* sp = s + position * SPosition;
                if (Row0 == 0) new Span<float>(sp, kg * cg).Clear();
                RowDots.Accumulate(sp, p + position * PPosition, kg, v + position * VPosition, cg, tiles, Stride);
            }
        }

        /// <summary>dW[k, c] += Gᵀ S[k, c] G for output channels [k0, k1).</summary>
        private void Weights(int k0, int k1)
        {
            int cg = G.InputChannelsPerGroup;
            float* s = Pointer(Owner._u);
            for (int k = k0; k < k1; k++)
            for (int c = 0; c < cg; c++)
                WinogradTransforms.WeightGradient(DW + ((long)k * cg + c) * 9, s + (long)k * cg + c, SPosition);
        }
    }
}
