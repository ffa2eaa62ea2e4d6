using NanoCam.Cpu.Threading;

namespace NanoCam.Cpu.Simd.Gemm;

/// <summary>
/// Cache-blocked, packed matrix multiply (the Goto/BLIS loop nest): C = alpha·op(A)·op(B) + beta·C.
///   for jc in N by Nc:  for pc in K by Kc:  pack op(B)[pc.., jc..] into Nr-column panels (stays in L3/L2)
///     for ic in M by Mc-blocks: pack op(A)[ic.., pc..] into Mr-row panels (L2)
///       for each Nr panel × Mr panel: the micro-kernel accumulates an Mr×Nr tile in registers (L1 streams).
/// Transposes are absorbed by the packing, so the micro-kernel sees one layout. Threads split the (row block, column
/// block) tiles of each (jc, pc) step; each tile's arithmetic is fixed, so results do not depend on scheduling.
/// </summary>
public sealed unsafe class SimdGemm<TKernel> where TKernel : IMicroKernel
{
    private const int Kc = 256;
    private const int Nc = 4096;
    private const int McTask = 96;   // rows per compute task (a multiple of Mr for both kernels)
    private const int NcTask = 256;  // columns per compute task
    private const int MaxPackedRows = 3072;

    private readonly PackAJob _packA = new();
    private readonly PackBJob _packB = new();
    private readonly ComputeJob _compute = new();

    /// <summary>One matrix of the batch: a, b, c point at its first elements; lda/ldb/ldc are row lengths as stored.</summary>
    public void Multiply(float* c, int ldc, float* a, int lda, float* b, int ldb, int m, int n, int k,
        bool transposeA, bool transposeB, float alpha, float beta, GemmWorkspace workspace, CpuThreadPool? pool)
    {
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0)
        {
            ScaleC(c, ldc, m, n, beta);
            return;
        }
        int mr = TKernel.Mr, nr = TKernel.Nr;
        for (int jc = 0; jc < n; jc += Nc)
        {
            int nb = Math.Min(Nc, n - jc);
            int panelsB = (nb + nr - 1) / nr;
            for (int pc = 0; pc < k; pc += Kc)
            {
                int kc = Math.Min(Kc, k - pc);
                // beta applies once, on the first K block; later blocks accumulate.
                if (pc == 0 && beta != 0 && beta != 1) ScaleC(c + jc, ldc, m, nb, beta);
                bool accumulate = pc > 0 || beta != 0;
                float* packedB = workspace.PackedB(panelsB * nr * kc);
                _packB.Set(packedB, b, ldb, transposeB, pc, jc, kc, nb, nr);
                Run(pool, panelsB, _packB);
                for (int ic = 0; ic < m; ic += MaxPackedRows)
                {
                    int mb = Math.Min(MaxPackedRows, m - ic);
                    int panelsA = (mb + mr - 1) / mr;
                    float* packedA = workspace.PackedA(panelsA * mr * kc);
                    _packA.Set(packedA, a, lda, transposeA, ic, pc, kc, mb, mr);
                    Run(pool, panelsA, _packA);
                    _compute.Set(packedA, packedB, c + ic * ldc + jc, ldc, mb, nb, kc, alpha, accumulate);
                    Run(pool, _compute.Tasks, _compute);
                }
            }
        }
    }

    private static void Run(CpuThreadPool? pool, int count, IParallelBody body)
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
            for (int i = 0; i < mr; i++)
            {
                if (i >= valid)
                {
                    for (int p = 0; p < kc; p++) dst[p * mr + i] = 0;
                    continue;
                }
                int row = _ic + first + i;
                if (_transposed)
                {
                    float* src = _a + (long)_pc * _lda + row;
                    for (int p = 0; p < kc; p++) dst[p * mr + i] = src[(long)p * _lda];
                }
                else
                {
                    float* src = _a + (long)row * _lda + _pc;
                    for (int p = 0; p < kc; p++) dst[p * mr + i] = src[p];
                }
            }
        }
    }

    /// <summary>Packs op(B)[pc + p, jc + panel·Nr + j] to dst[panel][p·Nr + j], zero-padding missing columns.</summary>
    private sealed class PackBJob : IParallelBody
    {
        private float* _dst, _b;
        private int _ldb, _pc, _jc, _kc, _cols, _nr;
        private bool _transposed;

        public void Set(float* dst, float* b, int ldb, bool transposed, int pc, int jc, int kc, int cols, int nr)
        {
            _dst = dst;
            _b = b;
            (_ldb, _transposed, _pc, _jc, _kc, _cols, _nr) = (ldb, transposed, pc, jc, kc, cols, nr);
        }

        public void Execute(int panel)
        {
            int nr = _nr, kc = _kc, first = panel * nr, valid = Math.Min(nr, _cols - first);
            float* dst = _dst + panel * nr * kc;
            if (!_transposed)
            {
                for (int p = 0; p < kc; p++)
                {
                    float* src = _b + (long)(_pc + p) * _ldb + _jc + first;
                    float* d = dst + p * nr;
                    if (valid == nr) new ReadOnlySpan<float>(src, nr).CopyTo(new Span<float>(d, nr));
                    else
                    {
                        for (int j = 0; j < valid; j++) d[j] = src[j];
                        for (int j = valid; j < nr; j++) d[j] = 0;
                    }
                }
                return;
            }
            for (int j = 0; j < nr; j++)
            {
                if (j >= valid)
                {
                    for (int p = 0; p < kc; p++) dst[p * nr + j] = 0;
                    continue;
                }
                float* src = _b + (long)(_jc + first + j) * _ldb + _pc;
                for (int p = 0; p < kc; p++) dst[p * nr + j] = src[p];
            }
        }
    }

    /// <summary>One task: a McTask×NcTask block of C, micro-kernel tile by tile.</summary>
    private sealed class ComputeJob : IParallelBody
    {
        private float* _a, _b, _c;
        private int _ldc, _rows, _cols, _kc, _rowTasks;
        private float _alpha;
        private bool _accumulate;

        public int Tasks { get; private set; }

        public void Set(float* packedA, float* packedB, float* c, int ldc, int rows, int cols, int kc, float alpha, bool accumulate)
        {
            _a = packedA;
            _b = packedB;
            _c = c;
            (_ldc, _rows, _cols, _kc, _alpha, _accumulate) = (ldc, rows, cols, kc, alpha, accumulate);
            _rowTasks = (rows + McTask - 1) / McTask;
            Tasks = _rowTasks * ((cols + NcTask - 1) / NcTask);
        }

        public void Execute(int task)
        {
            int mr = TKernel.Mr, nr = TKernel.Nr;
            int i0 = task % _rowTasks * McTask, j0 = task / _rowTasks * NcTask;
            int i1 = Math.Min(_rows, i0 + McTask), j1 = Math.Min(_cols, j0 + NcTask);
            for (int j = j0; j < j1; j += nr)
            {
                float* bPanel = _b + (long)(j / nr) * nr * _kc;
                for (int i = i0; i < i1; i += mr)
                {
                    TKernel.Run(_kc, _a + (long)(i / mr) * mr * _kc, bPanel, _c + (long)i * _ldc + j, _ldc, _alpha, _accumulate,
                        Math.Min(mr, _rows - i), Math.Min(nr, _cols - j));
                }
            }
        }
    }
}
