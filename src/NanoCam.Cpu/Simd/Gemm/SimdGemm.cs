using NanoCam.Cpu.Simd.Conv;
using NanoCam.Cpu.Threading;

namespace NanoCam.Cpu.Simd.Gemm;

/// <summary>
/// Cache-blocked, packed matrix multiply (the Goto/BLIS loop nest): C = alpha·op(A)·op(B) + beta·C.
///   for jc in N by Nc:  for pc in K by kc:  pack op(B)[pc.., jc..] into Nr-column panels (L2/L3)
///     for ic in M by row blocks: pack op(A)[ic.., pc..] into Mr-row panels
///       tasks of (row range, column-panel range): the micro-kernel accumulates Mr×Nr tiles in registers.
/// Inside a task the A micro-panel (Mr·kc) stays in L1 while the task's B panels stream from L2.
/// Transposes are absorbed by the packing, so the micro-kernel sees one layout; B may also be the implicit im2col
/// matrix of a convolution (<see cref="IPanelSource"/>). Threads split packing panels and compute tasks; each tile's
/// arithmetic is fixed, so results do not depend on scheduling.
/// </summary>
public sealed unsafe class SimdGemm<TKernel> : IPackedGemm where TKernel : IMicroKernel
{
    private const int KcMax = 256;   // depth of one packed block: A micro-panel Mr·kc and B micro-panel Nr·kc fit L1
    private const int Nc = 4096;
    private const int RowsPerTask = 96;
    private const int ColumnsPerTask = 256;
    private const int MaxPackedRows = 3072;
    private const int NarrowRows = 256;      // up to this many rows of C: A packed whole, B packed inside the compute tasks
    private const int SerialPackA = 1 << 16; // elements of A below which the caller packs it alone (no barrier)

    private readonly PackAJob _packA = new();
    private readonly PackBJob<MatrixPanels> _packMatrix = new();
    private readonly PackBJob<Im2ColPanels> _packIm2Col = new();
    private readonly ComputeJob _compute = new();
    private readonly NarrowJob<MatrixPanels> _narrowMatrix;
    private readonly NarrowJob<Im2ColPanels> _narrowIm2Col;

    public SimdGemm()
    {
        _narrowMatrix = new NarrowJob<MatrixPanels>(_packMatrix);
        _narrowIm2Col = new NarrowJob<Im2ColPanels>(_packIm2Col);
    }

    public string Tile => $"{TKernel.Mr}x{TKernel.Nr}";

    public void Multiply(float* c, int ldc, float* a, int lda, float* b, int ldb, int m, int n, int k,
        bool transposeA, bool transposeB, float alpha, float beta, GemmWorkspace workspace, CpuThreadPool? pool)
    {
        _packMatrix.Source = new MatrixPanels(b, ldb, transposeB);
        Run(c, ldc, a, lda, transposeA, m, n, k, alpha, beta, _packMatrix, _narrowMatrix, workspace, pool);
    }

    public void MultiplyIm2Col(float* c, int ldc, float* a, int lda, bool transposeA, int m, float* image, in Conv2dGeometry g, int channels,
        long imageStride, int images, float alpha, float beta, GemmWorkspace workspace, CpuThreadPool? pool)
    {
        _packIm2Col.Source = new Im2ColPanels(image, g, imageStride);
        Run(c, ldc, a, lda, transposeA, m, images * g.OutputHeight * g.OutputWidth, channels * g.KernelHeight * g.KernelWidth,
            alpha, beta, _packIm2Col, _narrowIm2Col, workspace, pool);
    }

    private void Run<TSource>(float* c, int ldc, float* a, int lda, bool transposeA, int m, int n, int k,
        float alpha, float beta, PackBJob<TSource> packB, NarrowJob<TSource> narrow, GemmWorkspace workspace, CpuThreadPool? pool)
        where TSource : struct, IPanelSource
    {
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0)
        {
            ScaleC(c, ldc, m, n, beta);
            return;
        }
        if (pool is not null && !pool.Splits((long)m * n * k)) pool = null; // small: the calling thread alone
        int mr = TKernel.Mr, nr = TKernel.Nr;
        int threads = pool?.Threads ?? 1;
        // Equal K blocks (576 = 3 × 192, not 256 + 256 + 64): no short block that pays a full pass over C.
        int kBlocks = (k + KcMax - 1) / KcMax, kcStep = (k + kBlocks - 1) / kBlocks;
        for (int jc = 0; jc < n; jc += Nc)
        {
            int nb = Math.Min(Nc, n - jc);
            int panelsB = (nb + nr - 1) / nr;
            if (m <= NarrowRows)
            {
                // Few rows (a convolution's output channels): pack all of A, then one parallel region in which every
                // task packs its own B panels block by block and keeps its C columns hot across the K blocks.
                if (beta != 0 && beta != 1) ScaleC(c + jc, ldc, m, nb, beta);
                int panelsA = (m + mr - 1) / mr;
                float* packedA = workspace.PackedA(panelsA * mr * k);
                for (int pc = 0; pc < k; pc += kcStep)
                {
                    _packA.Set(packedA + (long)panelsA * mr * pc, a, lda, transposeA, 0, pc, Math.Min(kcStep, k - pc), m, mr);
                    Parallel((long)m * k < SerialPackA ? null : pool, panelsA, _packA);
                }
                packB.Set(workspace.PackedB(panelsB * nr * kcStep), 0, jc, 0, nb, nr);
                narrow.Set(packedA, c + jc, ldc, m, nb, k, kcStep, alpha, beta != 0, threads);
                Parallel(pool, narrow.Tasks, narrow);
                continue;
            }
            for (int pc = 0; pc < k; pc += kcStep)
            {
                int kc = Math.Min(kcStep, k - pc);
                // beta applies once, on the first K block; later blocks accumulate.
                if (pc == 0 && beta != 0 && beta != 1) ScaleC(c + jc, ldc, m, nb, beta);
                bool accumulate = pc > 0 || beta != 0;
                float* packedB = workspace.PackedB(panelsB * nr * kc);
                packB.Set(packedB, pc, jc, kc, nb, nr);
                Parallel(pool, panelsB, packB);
                for (int ic = 0; ic < m; ic += MaxPackedRows)
                {
                    int mb = Math.Min(MaxPackedRows, m - ic);
                    int panelsA = (mb + mr - 1) / mr;
                    float* packedA = workspace.PackedA(panelsA * mr * kc);
                    _packA.Set(packedA, a, lda, transposeA, ic, pc, kc, mb, mr);
                    Parallel(pool, panelsA, _packA);
                    _compute.Set(packedA, packedB, c + ic * ldc + jc, ldc, mb, nb, kc, alpha, accumulate, threads);
                    Parallel(pool, _compute.Tasks, _compute);
                }
            }
        }
    }

    private static void Parallel(CpuThreadPool? pool, int count, IParallelBody body)
    {
        if (pool is null) for (int i = 0; i < count; i++) body.Execute(i);
        else pool.For(count, body);
    }

    private static void ScaleC(float* c, int ldc, int m, int n, float beta)
    {
        for (int i = 0; i < m; i++)
        {
            var row = new Span<float>(c + i * ldc, n);
            if (beta == 0) row.Clear();
            else System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
        }
    }

    /// <summary>Packs op(A)[ic + panel·Mr + i, pc + p] to dst[panel][p·Mr + i], zero-padding missing rows.</summary>
    private sealed class PackAJob : IParallelBody
    {
        private float* _dst, _a;
        private int _lda, _ic, _pc, _kc, _rows, _mr;
        private bool _transposed;

        public void Set(float* dst, float* a, int lda, bool transposed, int ic, int pc, int kc, int rows, int mr)
        {
            _dst = dst;
            _a = a;
            (_lda, _transposed, _ic, _pc, _kc, _rows, _mr) = (lda, transposed, ic, pc, kc, rows, mr);
        }

        public void Execute(int panel)
        {
            int mr = _mr, kc = _kc, first = panel * mr, valid = Math.Min(mr, _rows - first);
            float* dst = _dst + panel * mr * kc;
            if (_transposed)
            {
                // op(A)[i, p] = A[p, i]: each packed step is a contiguous run of the stored row p.
                for (int p = 0; p < kc; p++)
                {
                    float* d = dst + p * mr;
                    PanelCopy.Copy(d, _a + (long)(_pc + p) * _lda + _ic + first, valid);
                    PanelCopy.Zero(d + valid, mr - valid);
                }
                return;
            }
            int full = valid / 8 * 8;
            for (int i = 0; i < full; i += 8) PanelTranspose.Rows8(dst + i, mr, _a + (long)(_ic + first + i) * _lda + _pc, _lda, kc);
            for (int i = full; i < mr; i++)
            {
                if (i >= valid)
                {
                    for (int p = 0; p < kc; p++) dst[p * mr + i] = 0;
                    continue;
                }
                float* src = _a + (long)(_ic + first + i) * _lda + _pc;
                for (int p = 0; p < kc; p++) dst[p * mr + i] = src[p];
            }
        }
    }

    /// <summary>Packs op(B)[pc.., jc + panel·Nr..] from the source into dst[panel][p·Nr + j].</summary>
    private sealed class PackBJob<TSource> : IParallelBody where TSource : struct, IPanelSource
    {
        private float* _dst;
        private int _pc, _jc, _kc, _cols, _nr;

        public TSource Source;

        public void Set(float* dst, int pc, int jc, int kc, int cols, int nr)
        {
            _dst = dst;
            (_pc, _jc, _kc, _cols, _nr) = (pc, jc, kc, cols, nr);
        }

        public void Execute(int panel) => Pack(panel, _pc, _kc, _kc);

        /// <summary>Packs one panel for K block [pc, pc + kc) at panel·Nr·stride in the buffer, whatever Set said of K.</summary>
        public float* Pack(int panel, int pc, int kc, int stride)
        {
            int first = panel * _nr;
            float* dst = _dst + (long)panel * _nr * stride;
            Source.Pack(dst, pc, kc, _jc + first, Math.Min(_nr, _cols - first), _nr);
            return dst;
        }

        public float* Panel(int panel, int stride) => _dst + (long)panel * _nr * stride;
    }

    /// <summary>
    /// The narrow-A schedule: a task owns a range of B panels (all rows of C) for the whole of K; per K block it packs
    /// its panels, then runs every row panel down each B panel (the B micro-panel stays in L1, A streams from L2).
    /// </summary>
    private sealed class NarrowJob<TSource>(PackBJob<TSource> packB) : IParallelBody where TSource : struct, IPanelSource
    {
        private float* _a, _c;
        private int _ldc, _rows, _cols, _k, _kcStep, _columnTasks, _panels;
        private float _alpha;
        private bool _accumulateFirst;

        public int Tasks => _columnTasks;

        public void Set(float* packedA, float* c, int ldc, int rows, int cols, int k, int kcStep, float alpha, bool accumulateFirst, int threads)
        {
            _a = packedA;
            _c = c;
            (_ldc, _rows, _cols, _k, _kcStep, _alpha, _accumulateFirst) = (ldc, rows, cols, k, kcStep, alpha, accumulateFirst);
            _panels = (cols + TKernel.Nr - 1) / TKernel.Nr;
            _columnTasks = BalancedTasks(1, _panels, cols, threads);
        }

        public void Execute(int task)
        {
            int mr = TKernel.Mr, nr = TKernel.Nr;
            int panelsA = (_rows + mr - 1) / mr;
            int p0 = (int)((long)_panels * task / _columnTasks), p1 = (int)((long)_panels * (task + 1) / _columnTasks);
            for (int pc = 0; pc < _k; pc += _kcStep)
            {
                int kc = Math.Min(_kcStep, _k - pc);
                // Panels sit kcStep deep whatever this block's kc, so tasks in different K blocks never overlap.
                for (int panel = p0; panel < p1; panel++) packB.Pack(panel, pc, kc, _kcStep);
                bool accumulate = pc > 0 || _accumulateFirst;
                float* aBlock = _a + (long)panelsA * mr * pc;
                for (int panel = p0; panel < p1; panel++)
                {
                    int j = panel * nr, cols = Math.Min(nr, _cols - j);
                    float* bPanel = packB.Panel(panel, _kcStep);
                    for (int i = 0; i < _rows; i += mr)
                        MicroTile.Run<TKernel>(kc, aBlock + (long)(i / mr) * mr * kc, bPanel, _c + (long)i * _ldc + j, _ldc, _alpha, accumulate,
                            Math.Min(mr, _rows - i), cols);
                }
            }
        }
    }

    /// <summary>
    /// Column ranges per row range: about ColumnsPerTask columns each, their count times rowTasks rounded up to a multiple
    /// of the thread count so two threads get equal work.
    /// </summary>
    private static int BalancedTasks(int rowTasks, int panels, int cols, int threads)
    {
        int columnTasks = Math.Max(1, (cols + ColumnsPerTask - 1) / ColumnsPerTask);
        while (threads > 1 && rowTasks * columnTasks % threads != 0 && columnTasks < panels) columnTasks++;
        return columnTasks;
    }

    /// <summary>
    /// One task: a block of C rows × a range of B panels, micro-kernel tile by tile. Column ranges are split evenly
    /// and their number rounded up to a multiple of the thread count, so two threads get equal work.
    /// </summary>
    private sealed class ComputeJob : IParallelBody
    {
        private float* _a, _b, _c;
        private int _ldc, _rows, _cols, _kc, _rowTasks, _columnTasks, _panels, _rowsPerTask;
        private float _alpha;
        private bool _accumulate;

        public int Tasks { get; private set; }

        public void Set(float* packedA, float* packedB, float* c, int ldc, int rows, int cols, int kc, float alpha, bool accumulate, int threads)
        {
            _a = packedA;
            _b = packedB;
            _c = c;
            (_ldc, _rows, _cols, _kc, _alpha, _accumulate) = (ldc, rows, cols, kc, alpha, accumulate);
            int mr = TKernel.Mr, nr = TKernel.Nr;
            _rowsPerTask = (RowsPerTask + mr - 1) / mr * mr;
            _rowTasks = (rows + _rowsPerTask - 1) / _rowsPerTask;
            _panels = (cols + nr - 1) / nr;
            _columnTasks = BalancedTasks(_rowTasks, _panels, cols, threads);
            Tasks = _rowTasks * _columnTasks;
        }

        public void Execute(int task)
        {
            int mr = TKernel.Mr, nr = TKernel.Nr;
            int rowTask = task % _rowTasks, columnTask = task / _rowTasks;
            int i0 = rowTask * _rowsPerTask, i1 = Math.Min(_rows, i0 + _rowsPerTask);
            int p0 = (int)((long)_panels * columnTask / _columnTasks), p1 = (int)((long)_panels * (columnTask + 1) / _columnTasks);
            for (int i = i0; i < i1; i += mr)
            {
                float* aPanel = _a + (long)(i / mr) * mr * _kc;
                int rows = Math.Min(mr, _rows - i);
                for (int panel = p0; panel < p1; panel++)
                {
                    int j = panel * nr;
                    MicroTile.Run<TKernel>(_kc, aPanel, _b + (long)panel * nr * _kc, _c + (long)i * _ldc + j, _ldc, _alpha, _accumulate,
                        rows, Math.Min(nr, _cols - j));
                }
            }
        }
    }
}
