using NanoCam.Cpu.Simd.Conv;
using NanoCam.Cpu.Threading;

namespace NanoCam.Cpu.Simd.Gemm;

/// <summary>The inference GEMM over pre-packed weights, with its micro-kernel bound, behind one non-generic face.</summary>
public unsafe interface IPrepackedGemm
{
    /// <summary>Rows per packed panel this GEMM's micro-kernel reads (what <see cref="PackedWeights.Pack"/> must be given).</summary>
    int Mr { get; }

    /// <summary>C[a.Rows × n] = epilogue(A·B) with B a stored row-major [a.Depth × n] matrix (ldb floats per row).</summary>
    void Multiply(float* c, int ldc, PackedWeights a, float* b, int ldb, int n, GemmEpilogue epilogue, CpuThreadPool? pool);

    /// <summary>C[a.Rows × OH·OW] = epilogue(A·im2col(image)) for one image's channel group (<see cref="Im2ColPanels"/>).</summary>
    void MultiplyIm2Col(float* c, int ldc, PackedWeights a, float* image, in Conv2dGeometry g, GemmEpilogue epilogue, CpuThreadPool? pool);
}

/// <summary>Builds the inference GEMM for a resolved <see cref="MicroKernelChoice"/>.</summary>
public static class PrepackedGemm
{
    public static IPrepackedGemm Create(MicroKernelChoice choice) => PackedGemm.Resolve(choice) switch
    {
        MicroKernelChoice.Avx512 => new PrepackedGemm<MicroKernel8x48>(),
        _ => new PrepackedGemm<MicroKernel6x16>(),
    };
}

/// <summary>
/// C = epilogue(A·B) for a constant, pre-packed A (inference): the Goto loop nest of <see cref="SimdGemm{TKernel}"/>
/// without its A packing. Tasks own ranges of C's column panels for the whole depth; per depth block a task packs its
/// B panels, then runs every row panel (in blocks of <see cref="RowBlock"/> rows, so the A block stays in L2) down
/// each B panel (in L1). The first block writes C, later ones accumulate; after the last, the task applies the epilogue
/// (bias, activation) to its columns while they are still in cache. Each tile's arithmetic is fixed, so results do not
/// depend on the thread count; they differ from the unfused path's only in where the bias is added (after the sum
/// here, before it there), i.e. by rounding.
/// </summary>
public sealed unsafe class PrepackedGemm<TKernel> : IPrepackedGemm where TKernel : IMicroKernel
{
    private const int RowBlock = 256;
    private const int ColumnsPerTask = 256;

    private readonly Job<MatrixPanels> _matrix = new();
    private readonly Job<Im2ColPanels> _im2col = new();
    private readonly GemmWorkspace _workspace = new();
    private readonly PackedGemv _gemv = new();

    public int Mr => TKernel.Mr;

    public void Multiply(float* c, int ldc, PackedWeights a, float* b, int ldb, int n, GemmEpilogue epilogue, CpuThreadPool? pool)
    {
        if (n == 1 && PackedGemv.Applies(a.Mr))
        {
            // One column (a 1×1 map): two depth steps per vector rather than a vector per column (see PackedGemv).
            _gemv.Multiply(c, ldc, a, b, ldb, epilogue, pool);
            return;
        }
        _matrix.Source = new MatrixPanels(b, ldb, false);
        // The 8×48 tile reads full panels of a stored B in place (see StridedTile8x48); other tiles pack them.
        _matrix.InPlace = typeof(TKernel) == typeof(MicroKernel8x48) ? b : null;
        _matrix.Ldb = ldb;
        Run(_matrix, c, ldc, a, n, epilogue, pool);
    }

    public void MultiplyIm2Col(float* c, int ldc, PackedWeights a, float* image, in Conv2dGeometry g, GemmEpilogue epilogue, CpuThreadPool? pool)
    {
        _im2col.Source = new Im2ColPanels(image, g, 0);
        Run(_im2col, c, ldc, a, g.OutputHeight * g.OutputWidth, epilogue, pool);
    }

    private void Run<TSource>(Job<TSource> job, float* c, int ldc, PackedWeights a, int n, GemmEpilogue epilogue, CpuThreadPool? pool)
        where TSource : struct, IPanelSource
    {
        if (a.Mr != TKernel.Mr) throw new ArgumentException($"weights packed for {a.Mr}-row panels, but the micro-kernel has {TKernel.Mr}");
        if (n == 0 || a.Rows == 0) return;
        if (pool is not null && !pool.Splits((long)a.Rows * a.Depth * n)) pool = null; // small: the calling thread alone
        int panels = (n + TKernel.Nr - 1) / TKernel.Nr, threads = pool?.Threads ?? 1;
        int tasks = Math.Max(1, (n + ColumnsPerTask - 1) / ColumnsPerTask);
        while (threads > 1 && tasks % threads != 0 && tasks < panels) tasks++;
        job.Set(_workspace.PackedB(panels * TKernel.Nr * a.KcStep), c, ldc, a, n, panels, tasks, epilogue);
        if (pool is null) for (int t = 0; t < tasks; t++) job.Execute(t);
        else pool.For(tasks, job);
    }

    private sealed class Job<TSource> : IParallelBody where TSource : struct, IPanelSource
    {
        private float* _packedB, _c;
        private int _ldc, _n, _panels, _tasks;
        private PackedWeights _a = null!;
        private GemmEpilogue _epilogue;

        public TSource Source;

        /// <summary>B itself, when full panels are read in place rather than packed (a stored matrix, 8×48 tile); else null.</summary>
        public float* InPlace;
        public int Ldb;

        public void Set(float* packedB, float* c, int ldc, PackedWeights a, int n, int panels, int tasks, GemmEpilogue epilogue)
        {
            _packedB = packedB;
            _c = c;
            _a = a;
            _epilogue = epilogue;
            (_ldc, _n, _panels, _tasks) = (ldc, n, panels, tasks);
        }

        public void Execute(int task)
        {
            int mr = TKernel.Mr, nr = TKernel.Nr, rows = _a.Rows, depth = _a.Depth, kcStep = _a.KcStep;
            int p0 = (int)((long)_panels * task / _tasks), p1 = (int)((long)_panels * (task + 1) / _tasks);
            // Read in place: full panels by the 8×48 tile, and, with AVX-512 in hardware, the last narrower panel and the
            // last rows by the masked tile; anything else is packed.
            bool masked = InPlace != null && MaskedTile8.IsSupported;
            var act = _epilogue.Activation;
            bool registerAct = VectorActivation.Vectorizes(act.Kind);
            for (int pc = 0; pc < depth; pc += kcStep)
            {
                int kc = Math.Min(kcStep, depth - pc);
                // Panels sit kcStep deep whatever this block's kc, so tasks never overlap.
                for (int panel = p0; panel < p1; panel++)
                    if (InPlace == null || _n - panel * nr < nr && !masked)
                        Source.Pack(_packedB + (long)panel * nr * kcStep, pc, kc, panel * nr, Math.Min(nr, _n - panel * nr), nr);
                float* aBlock = _a.Block(pc);
                bool accumulate = pc > 0, last = pc + kcStep >= depth;
                int rowBlock = RowBlock / mr * mr;
                for (int r0 = 0; r0 < rows; r0 += rowBlock)
                {
                    int r1 = Math.Min(rows, r0 + rowBlock);
                    for (int panel = p0; panel < p1; panel++)
                    {
                        int j = panel * nr, cols = Math.Min(nr, _n - j);
                        float* bPanel = _packedB + (long)panel * nr * kcStep;
                        if (InPlace != null && (cols == nr || masked))
                        {
                            float* b = InPlace + (long)pc * Ldb + j;
                            for (int i = r0; i < r1; i += mr)
                            {
                                // The last depth block applies the epilogue in registers (the panel is skipped below).
                                float* bias = last && _epilogue.RowBias != null ? _epilogue.RowBias + i : null;
                                var tileAct = last && registerAct ? act : ConvEpilogue.None;
                                float* c = _c + (long)i * _ldc + j;
                                int valid = Math.Min(mr, rows - i);
                                if (cols == nr && valid == mr) StridedTile8x48.Tile(kc, aBlock + (long)(i / mr) * mr * kc, b, Ldb, c, _ldc, 1f, accumulate, bias, tileAct);
                                else if (masked) MaskedTile8.Tile(kc, aBlock + (long)(i / mr) * mr * kc, b, Ldb, c, _ldc, cols, valid, accumulate, bias, tileAct);
                                else
                                {
                                    StridedEdge(kc, aBlock + (long)(i / mr) * mr * kc, b, c, accumulate, valid, last);
                                    continue;
                                }
                                // An activation without a vector form follows the tile's bias while its block is in L1.
                                if (last && !registerAct) _epilogue.Activate(c, _ldc, valid, 0, cols);
                            }
                            continue;
                        }
                        for (int i = r0; i < r1; i += mr)
                            MicroTile.Run<TKernel>(kc, aBlock + (long)(i / mr) * mr * kc, bPanel, _c + (long)i * _ldc + j, _ldc, 1f, accumulate,
                                Math.Min(mr, rows - i), cols);
                    }
                }
            }
            // Panels read in place had their epilogue in the tile; the packed ones (a stored B's last, narrower panel
            // without AVX-512, or every panel of an implicit im2col B) get it here, while the task's columns are still in cache.
            if (InPlace == null) _epilogue.Apply(_c, _ldc, rows, p0 * nr, Math.Min(_n, p1 * nr));
            else if (!masked && p1 * nr > _n) _epilogue.Apply(_c, _ldc, rows, (p1 - 1) * nr, _n);
        }

        /// <summary>The last row panel with fewer than 8 rows: the full tile into a local buffer, then its valid rows.</summary>
        private void StridedEdge(int kc, float* a, float* b, float* c, bool accumulate, int rows, bool last)
        {
            float* tile = stackalloc float[8 * 48];
            StridedTile8x48.Tile(kc, a, b, Ldb, tile, 48, 1f, false);
            for (int i = 0; i < rows; i++)
            for (int j = 0; j < 48; j++)
                c[i * _ldc + j] = tile[i * 48 + j] + (accumulate ? c[i * _ldc + j] : 0);
            // The epilogue of these rows (their bias index: the row offset of c within C).
            if (last) _epilogue.Apply(c, _ldc, rows, 0, 48, (int)((c - _c) / _ldc));
        }
    }
}
