using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NanoCam.Cpu.Simd.Gemm;
using NanoCam.Cpu.Threading;

namespace NanoCam.Cpu.Simd.Conv;

/// <summary>
/// Forward 3×3, stride-1, undilated convolution by Winograd F(2×2, 3×3) (see <see cref="WinogradTransforms"/>): per
/// channel group and block of tile rows,
///   U_ξ[Kg, Cg] = (G g Gᵀ)_ξ,   V_ξ[Cg, T] = (Bᵀ d B)_ξ,   M_ξ[Kg, T] = U_ξ · V_ξ (16 packed GEMMs),   Y = Aᵀ M A + bias,
/// where T counts the block's 2×2 output tiles (image n, tile row ty, tile column tx; row-major). 2.25× fewer
/// multiplies than the direct sum; the transforms' entries are 0, ±½ and ±1, so rounding stays near the direct sum's.
/// Threads split channels (transforms), positions ξ (GEMMs, each thread with its own GEMM and workspace) and output
/// channels (output transform). Scratch grows on demand and is then reused: a steady call allocates nothing.
/// </summary>
public sealed unsafe partial class WinogradConv(MicroKernelChoice microKernel)
{
    /// <summary>Transformed positions per tile: the 4×4 of F(2×2, 3×3).</summary>
    private const int Positions = 16;

    /// <summary>Tiles one block aims for: V and M then stay a few MB (L3), and the GEMMs are wide enough to run at speed.</summary>
    private const int BlockTiles = 2048;

    /// <summary>
    /// The same for maps of at most 8 tile columns (the 8-lane transforms), where a block spans many images, rounded to
    /// whole GEMM panels by <see cref="NarrowBlockRows"/>: measured on the GAP-CNN's 14×14 and 7×7 layers at batch 64,
    /// 256 ran 10–30 % faster than 2048 (V and M of a block stay in cache between the phases), while 128, 192 and 288
    /// ran slower (288 leaves the GEMM a second, nearly empty 256-column task). Then blocks of whole 48-tile panels
    /// (fastest of 150 calls, A/B, 1 thread): the 7×7 layers' products at 240 tiles ran 6–16 % faster than at 256, and
    /// 480 no faster again; the 14×14 layers' at 336 (48 tile rows of 7) 16–27 % faster than at 252 (a 12-column last
    /// panel), while 238 (a 46-column one) ran 38–76 % slower. Wide maps keep 2048: the 56×56 layer ran 7 % slower with 256.
    /// </summary>
    private const int NarrowBlockTiles = 240;

    /// <summary>
    /// Tile rows per block of a narrow map: a whole number of units of 48 tiles (the 8×48 GEMM tile's panel width, a
    /// multiple of the 6×16 tile's 16), as many as fit in <see cref="NarrowBlockTiles"/>, at least one (7 tile columns: 336 tiles).
    /// </summary>
    private static int NarrowBlockRows(int tileColumns)
    {
        int unit = GemmPanel / Gcd(tileColumns, GemmPanel);
        return unit * Math.Max(1, NarrowBlockTiles / (unit * tileColumns));
    }

    /// <summary>Columns of one packed B panel of the 8×48 GEMM tile.</summary>
    private const int GemmPanel = 48;

    private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);

    /// <summary>Channels per group (both sides) from which the transforms pay for themselves.</summary>
    private const int MinChannels = 16;

    /// <summary>Output tiles (over the batch) from which the 16 GEMMs are wide enough (a 13×13 map has 49).</summary>
    private const int MinTiles = 128;

    private readonly Job _job = new();
    private IPackedGemm[] _gemms = [];
    private GemmWorkspace[] _workspaces = [];
    private float[] _u = [], _v = [], _m = [], _rows = [];

    /// <summary>Whether <see cref="Forward"/> takes this geometry: a 3×3 stride-1 undilated kernel, enough channels and tiles, AVX-512.</summary>
    public static bool Applies(in Conv2dGeometry g) =>
        WinogradTransforms.IsSupported
        && g.KernelHeight == 3 && g.KernelWidth == 3 && g.StrideHeight == 1 && g.StrideWidth == 1
        && g.DilationHeight == 1 && g.DilationWidth == 1
        && g.InputChannelsPerGroup >= MinChannels && g.OutputChannelsPerGroup >= MinChannels
        && (long)g.Batch * ((g.OutputHeight + 1) / 2) * ((g.OutputWidth + 1) / 2) >= MinTiles;

    /// <summary>y[n] = conv(x[n], w) + bias for images [first, end) (NCHW; bias may be null).</summary>
    public void Forward(in Conv2dGeometry g, int first, int end, float* y, float* x, float* w, float* bias, CpuThreadPool? pool) =>
        Convolve(g, first, end, y, x, w, bias, accumulate: false, pool);

    /// <summary>The forward sum of <see cref="Forward"/>, written into y (accumulate false) or added to it (true).</summary>
    private void Convolve(in Conv2dGeometry g, int first, int end, float* y, float* x, float* w, float* bias, bool accumulate, CpuThreadPool? pool)
    {
        if (pool is not null && !pool.Splits(DirectWork(g, first, end))) pool = null; // small: the calling thread alone
        int threads = pool?.Threads ?? 1;
        int cg = g.InputChannelsPerGroup, kg = g.OutputChannelsPerGroup;
        int tileRows = (g.OutputHeight + 1) / 2, tileColumns = (g.OutputWidth + 1) / 2;
        int totalRows = (end - first) * tileRows;
        int rowsPerBlock = Math.Clamp(LanesFor(tileColumns) == WinogradTransforms.NarrowLanes ? NarrowBlockRows(tileColumns) : BlockTiles / tileColumns, 1, totalRows);
        int blockTiles = rowsPerBlock * tileColumns;
        // A tile row's inputs: 4 padded rows, 2 per tile plus 2, rounded up to whole 16-tile groups (+2 read past).
        int paddedWidth = 32 * ((tileColumns + WinogradTransforms.Lanes - 1) / WinogradTransforms.Lanes) + 2;
        // V rows run 16 floats past the block (the last group's spare lanes); M likewise at its end.
        long vStride = blockTiles + WinogradTransforms.Lanes;
        long uPosition = Skew((long)kg * cg), vPosition = Skew(cg * vStride), mPosition = Skew((long)kg * blockTiles);
        long planeFloats = (2L * Math.Min(tileRows, rowsPerBlock) + 2) * paddedWidth;
        Prepare(threads, Positions * uPosition, Positions * vPosition, Positions * mPosition + WinogradTransforms.Lanes, planeFloats);
        var job = _job;
        job.Owner = this;
        job.End = end;
        job.X = x;
        job.Y = y;
        job.Bias = bias;
        job.Accumulate = accumulate;
        (job.G, job.First, job.TileRows, job.TileColumns, job.PaddedWidth, job.VStride, job.Tasks) =
            (g, first, tileRows, tileColumns, paddedWidth, vStride, threads);
        (job.UPosition, job.VPosition, job.MPosition, job.PlaneFloats) = (uPosition, vPosition, mPosition, planeFloats);
        for (int group = 0; group < g.Groups; group++)
        {
            job.Group = group;
            job.W = w + (long)group * kg * cg * 9;
            Run(Phase.Filters, job, pool);
            for (int row0 = 0; row0 < totalRows; row0 += rowsPerBlock)
            {
                job.Row0 = row0;
                job.Rows = Math.Min(rowsPerBlock, totalRows - row0);
                Run(Phase.Inputs, job, pool);
                Run(Phase.Products, job, pool);
                Run(Phase.Outputs, job, pool);
            }
        }
    }

    /// <summary>Tiles per transform call: a row of at most 8 tiles takes the 8-lane transforms (a 16-lane group would be half empty).</summary>
    private static int LanesFor(int tileColumns) => tileColumns <= WinogradTransforms.NarrowLanes ? WinogradTransforms.NarrowLanes : WinogradTransforms.Lanes;

    /// <summary>Multiply-adds of the direct convolution of images [first, end): what decides whether it is split.</summary>
    private static long DirectWork(in Conv2dGeometry g, int first, int end) =>
        (long)(end - first) * g.OutputHeight * g.OutputWidth * g.OutputChannels * g.InputChannelsPerGroup * 9;

    private static void Run(Phase phase, Job job, CpuThreadPool? pool)
    {
        job.Phase = phase;
        if (pool is null) for (int i = 0; i < job.Tasks; i++) job.Execute(i);
        else pool.For(job.Tasks, job);
    }

    private void Prepare(int threads, long u, long v, long m, long rowsPerTask)
    {
        if (_gemms.Length < threads)
        {
            var gemms = new IPackedGemm[threads];
            var workspaces = new GemmWorkspace[threads];
            for (int i = 0; i < threads; i++)
            {
                gemms[i] = i < _gemms.Length ? _gemms[i] : PackedGemm.Create(microKernel);
                workspaces[i] = i < _workspaces.Length ? _workspaces[i] : new GemmWorkspace();
            }
            (_gemms, _workspaces) = (gemms, workspaces);
        }
        Grow(ref _u, u);
        Grow(ref _v, v);
        Grow(ref _m, m);
        Grow(ref _rows, (long)threads * rowsPerTask);
    }

    /// <summary>
    /// The distance between two positions' matrices: a whole number of cache lines, and an odd one, so the 16 streams
    /// a transform reads or writes at once fall in 16 different cache sets (a multiple of 4 KB would put all in one).
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

    private enum Phase { Filters, Inputs, Products, Outputs }

    /// <summary>One phase of one block, split into Tasks ranges (channels, positions or output channels).</summary>
    private sealed partial class Job : IParallelBody
    {
        public WinogradConv Owner = null!;
        public Phase Phase;
        public Conv2dGeometry G;
        public float* X, Y, W, Bias;
        public bool Accumulate;
        public int First, Group, TileRows, TileColumns, PaddedWidth, Row0, Rows, Tasks;
        /// <summary>One past the last image of the call: X and Y hold images [First, End).</summary>
        public int End;
        /// <summary>Floats of one task's plane buffer: the padded input rows of an image's tile rows (2 per tile row + 2).</summary>
        public long PlaneFloats;
        public long VStride, UPosition, VPosition, MPosition;

        public void Execute(int task)
        {
            switch (Phase)
            {
                case Phase.Filters:
                    Filters(Split(G.OutputChannelsPerGroup, task, out int k1), k1);
                    break;
                case Phase.Inputs:
                    Inputs(Split(G.InputChannelsPerGroup, task, out int c1), c1, task);
                    break;
                case Phase.Products:
                    Products(Split(Positions, task, out int p1), p1, task);
                    break;
                default:
                    Outputs(Split(G.OutputChannelsPerGroup, task, out int o1), o1, task);
                    break;
            }
        }

        private int Split(int count, int task, out int end)
        {
            end = (int)((long)count * (task + 1) / Tasks);
            return (int)((long)count * task / Tasks);
        }

        /// <summary>U_ξ[k, c] for output channels [k0, k1).</summary>
        private void Filters(int k0, int k1)
        {
            int cg = G.InputChannelsPerGroup, kg = G.OutputChannelsPerGroup;
            float* u = Pointer(Owner._u);
            for (int k = k0; k < k1; k++)
            for (int c = 0; c < cg; c++)
                WinogradTransforms.Filter(u + (long)k * cg + c, UPosition, W + ((long)k * cg + c) * 9);
        }

        /// <summary>
        /// V_ξ[c, t] for input channels [c0, c1) of the block. Each image's run of tile rows is copied once, zero-padded,
        /// into this task's plane buffer (consecutive tile rows share two input rows), then transformed row by row in
        /// groups of 16 tiles; narrow maps read the tensor directly (<see cref="InputsNarrow"/>).
        /// </summary>
        private void Inputs(int c0, int c1, int task)
        {
            if (LanesFor(TileColumns) == WinogradTransforms.NarrowLanes)
            {
                InputsNarrow(c0, c1);
                return;
            }
            var g = G;
            int pw = PaddedWidth, tw = TileColumns;
            float* plane = Pointer(Owner._rows) + (long)task * PlaneFloats;
            float* v = Pointer(Owner._v);
            long vStride = VStride, positionStride = VPosition;
            for (int c = c0; c < c1; c++)
            for (int row = 0; row < Rows;)
            {
                int globalRow = Row0 + row, n = First + globalRow / TileRows, ty0 = globalRow % TileRows;
                int run = Math.Min(TileRows - ty0, Rows - row);
                PadPlane(plane, X + ((long)n * g.InputChannels + Group * g.InputChannelsPerGroup + c) * g.InputHeight * g.InputWidth, ty0, run);
                for (int r = 0; r < run; r++)
                {
                    float* r0 = plane + (long)2 * r * pw;
                    // A short last group spills into the next row's slots (written after) or the spare.
                    float* vRow = v + c * vStride + (long)(row + r) * tw;
                    for (int tx = 0; tx < tw; tx += WinogradTransforms.Lanes)
                        WinogradTransforms.Input(vRow + tx, positionStride, r0 + 2 * tx, r0 + pw + 2 * tx, r0 + 2 * pw + 2 * tx, r0 + 3 * pw + 2 * tx);
                }
                row += run;
            }
        }

        /// <summary>The input rows of tile rows [ty0, ty0 + run) of one plane, zero-padded: padded[i][pl + ix] = x[2ty0 − pt + i, ix].</summary>
        private void PadPlane(float* padded, float* plane, int ty0, int run)
        {
            var g = G;
            int h = g.InputHeight, w = g.InputWidth, pw = PaddedWidth, pl = g.PadLeft;
            int copy = Math.Min(w, pw - pl);
            for (int i = 0; i < 2 * run + 2; i++)
            {
                float* dst = padded + (long)i * pw;
                int iy = 2 * ty0 - g.PadTop + i;
                if ((uint)iy >= (uint)h)
                {
                    new Span<float>(dst, pw).Clear();
                    continue;
                }
                new Span<float>(dst, pl).Clear();
                new ReadOnlySpan<float>(plane + (long)iy * w, copy).CopyTo(new Span<float>(dst + pl, copy));
                new Span<float>(dst + pl + copy, pw - pl - copy).Clear();
            }
        }

        /// <summary>M_ξ = U_ξ · V_ξ for positions [p0, p1), on this task's own GEMM.</summary>
        private void Products(int p0, int p1, int task)
        {
            int cg = G.InputChannelsPerGroup, kg = G.OutputChannelsPerGroup, tiles = Rows * TileColumns;
            float* u = Pointer(Owner._u), v = Pointer(Owner._v), m = Pointer(Owner._m);
            var gemm = Owner._gemms[task];
            var workspace = Owner._workspaces[task];
            for (int p = p0; p < p1; p++)
                gemm.Multiply(m + p * MPosition, tiles, u + p * UPosition, cg, v + p * VPosition, (int)VStride,
                    kg, tiles, cg, false, false, 1f, 0f, workspace, null);
        }

        /// <summary>One output row: copied, or added to what the row holds (<see cref="Accumulate"/>).</summary>
        private void WriteRow(float* row, float* destination, int width)
        {
            var dst = new Span<float>(destination, width);
            if (Accumulate) TensorPrimitives.Add(new ReadOnlySpan<float>(row, width), dst, dst);
            else new ReadOnlySpan<float>(row, width).CopyTo(dst);
        }

        /// <summary>Y = Aᵀ M A + bias for output channels [k0, k1), two output rows per tile row (narrow maps: <see cref="OutputsNarrow"/>).</summary>
        private void Outputs(int k0, int k1, int task)
        {
            if (LanesFor(TileColumns) == WinogradTransforms.NarrowLanes)
            {
                OutputsNarrow(k0, k1);
                return;
            }
            var g = G;
            int oh = g.OutputHeight, ow = g.OutputWidth, tw = TileColumns, pw = PaddedWidth, kg = g.OutputChannelsPerGroup;
            int tiles = Rows * tw;
            float* top = Pointer(Owner._rows) + (long)task * PlaneFloats, bottom = top + pw;
            float* m = Pointer(Owner._m);
            long positionStride = MPosition;
            for (int k = k0; k < k1; k++)
            {
                int channel = Group * kg + k;
                float bias = Bias == null ? 0f : Bias[channel];
                for (int row = 0; row < Rows; row++)
                {
                    int globalRow = Row0 + row, n = First + globalRow / TileRows, ty = globalRow % TileRows;
                    float* mRow = m + (long)k * tiles + (long)row * tw;
                    for (int tx = 0; tx < tw; tx += WinogradTransforms.Lanes)
                        WinogradTransforms.Output(top + 2 * tx, bottom + 2 * tx, mRow + tx, positionStride, bias);
                    float* plane = Y + ((long)n * g.OutputChannels + channel) * oh * ow;
                    WriteRow(top, plane + (long)2 * ty * ow, ow);
                    if (2 * ty + 1 < oh) WriteRow(bottom, plane + (long)(2 * ty + 1) * ow, ow);
                }
            }
        }
    }
}
