using System.Runtime.Intrinsics;
using NanoCam.Cpu.Threading;

namespace NanoCam.Cpu.Simd.Gemm;

/// <summary>
/// A one-row product c[1 × n] = alpha·a[1 × k]·op(B) + beta·c (a classifier's Gemm or MatMul on one image): each weight is
/// read once, straight from where it is stored, so packing either operand (what the GEMM would do) would cost as much as
/// the product itself. op(B) = Bᵀ (B stored n × k, ONNX Gemm's transB = 1): c[j] is the dot product of a with B's row j,
/// four rows at a time (four independent sixteen-lane sums, then the scalar tail). op(B) = B (stored k × n): c[j..j+64)
/// accumulates a[p]·B[p, j..j+64) over p in four vectors (columns past the last multiple of sixteen: scalar). Column
/// ranges are split across the pool; each c[j] sums in one fixed order whatever the split.
/// </summary>
public sealed unsafe class Gemv : IParallelBody
{
    private const int ColumnsPerTask = 64;

    private float* _c, _a, _b;
    private int _n, _k, _incA, _ldb, _tasks;
    private bool _transposeB;
    private float _alpha, _beta;

    /// <summary>
    /// c[j] = alpha·Σ_p a[p·incA]·op(B)[p, j] + beta·c[j] for j &lt; n (beta = 0: c is not read); B has ldb floats per
    /// stored row.
    /// </summary>
    public void Multiply(float* c, float* a, int incA, float* b, int ldb, int n, int k, bool transposeB, float alpha, float beta, CpuThreadPool? pool)
    {
        if (n == 0) return;
        _c = c;
        _a = a;
        _b = b;
        (_n, _k, _incA, _ldb, _transposeB, _alpha, _beta) = (n, k, incA, ldb, transposeB, alpha, beta);
        int chunks = (n + ColumnsPerTask - 1) / ColumnsPerTask, threads = pool?.Threads ?? 1;
        _tasks = pool is null || !pool.Splits((long)n * k * CpuThreadPool.ElementWork) ? 1 : Math.Min(chunks, threads);
        if (_tasks == 1) Execute(0);
        else pool!.For(_tasks, this);
    }

    /// <summary>Columns [n·task / tasks, n·(task + 1) / tasks), rounded to whole 64-column chunks.</summary>
    public void Execute(int task)
    {
        int chunks = (_n + ColumnsPerTask - 1) / ColumnsPerTask;
        int j0 = (int)((long)chunks * task / _tasks) * ColumnsPerTask, j1 = Math.Min(_n, (int)((long)chunks * (task + 1) / _tasks) * ColumnsPerTask);
        float* a = _a;
        if (_incA != 1)
        {
            // A strided column of a transposed A: gathered once into this thread's scratch.
            a = Scratch(_k);
            for (int p = 0; p < _k; p++) a[p] = _a[(long)p * _incA];
        }
        if (_transposeB) Dots(a, j0, j1);
        else Rows(a, j0, j1);
    }

    private void Store(int j, float sum) => _c[j] = _beta == 0 ? _alpha * sum : _alpha * sum + _beta * _c[j];

    /// <summary>c[j] = a · B[j, ·] for j in [j0, j1).</summary>
    private void Dots(float* a, int j0, int j1)
    {
        int k = _k, full = k / 16 * 16;
        int j = j0;
        for (; j + 4 <= j1; j += 4)
        {
            float* b0 = _b + (long)j * _ldb, b1 = b0 + _ldb, b2 = b1 + _ldb, b3 = b2 + _ldb;
            Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (int p = 0; p < full; p += 16)
            {
                var va = Vector512.Load(a + p);
                s0 = Vector512.FusedMultiplyAdd(va, Vector512.Load(b0 + p), s0);
                s1 = Vector512.FusedMultiplyAdd(va, Vector512.Load(b1 + p), s1);
                s2 = Vector512.FusedMultiplyAdd(va, Vector512.Load(b2 + p), s2);
                s3 = Vector512.FusedMultiplyAdd(va, Vector512.Load(b3 + p), s3);
            }
            float t0 = Vector512.Sum(s0), t1 = Vector512.Sum(s1), t2 = Vector512.Sum(s2), t3 = Vector512.Sum(s3);
            for (int p = full; p < k; p++)
            {
                t0 += a[p] * b0[p];
                t1 += a[p] * b1[p];
                t2 += a[p] * b2[p];
                t3 += a[p] * b3[p];
            }
            Store(j, t0);
            Store(j + 1, t1);
            Store(j + 2, t2);
            Store(j + 3, t3);
        }
        for (; j < j1; j++)
        {
            float* b0 = _b + (long)j * _ldb;
            Vector512<float> s0 = default;
            for (int p = 0; p < full; p += 16) s0 = Vector512.FusedMultiplyAdd(Vector512.Load(a + p), Vector512.Load(b0 + p), s0);
            float t0 = Vector512.Sum(s0);
            for (int p = full; p < k; p++) t0 += a[p] * b0[p];
            Store(j, t0);
        }
    }

    /// <summary>c[j0..j1) = Σ_p a[p]·B[p, j0..j1).</summary>
    private void Rows(float* a, int j0, int j1)
    {
        int k = _k;
        long ldb = _ldb;
        int j = j0;
        for (; j + 64 <= j1; j += 64)
        {
            Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
            float* b = _b + j;
            for (int p = 0; p < k; p++, b += ldb)
            {
                var va = Vector512.Create(a[p]);
                s0 = Vector512.FusedMultiplyAdd(va, Vector512.Load(b), s0);
                s1 = Vector512.FusedMultiplyAdd(va, Vector512.Load(b + 16), s1);
                s2 = Vector512.FusedMultiplyAdd(va, Vector512.Load(b + 32), s2);
                s3 = Vector512.FusedMultiplyAdd(va, Vector512.Load(b + 48), s3);
            }
            Finish(j, s0);
            Finish(j + 16, s1);
            Finish(j + 32, s2);
            Finish(j + 48, s3);
        }
        for (; j + 16 <= j1; j += 16)
        {
            Vector512<float> s0 = default;
            float* b = _b + j;
            for (int p = 0; p < k; p++, b += ldb) s0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[p]), Vector512.Load(b), s0);
            Finish(j, s0);
        }
        for (; j < j1; j++)
        {
            float sum = 0;
            float* b = _b + j;
            for (int p = 0; p < k; p++, b += ldb) sum = MathF.FusedMultiplyAdd(a[p], *b, sum);
            Store(j, sum);
        }
    }

    private void Finish(int j, Vector512<float> sum)
    {
        var scaled = Vector512.Create(_alpha) * sum;
        if (_beta != 0) scaled += Vector512.Create(_beta) * Vector512.Load(_c + j);
        scaled.Store(_c + j);
    }

    [ThreadStatic] private static float[]? _scratch;

    private static float* Scratch(int length)
    {
        var buffer = _scratch;
        if (buffer is null || buffer.Length < length) _scratch = buffer = GC.AllocateUninitializedArray<float>(length, pinned: true);
        return (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref buffer[0]);
    }
}
