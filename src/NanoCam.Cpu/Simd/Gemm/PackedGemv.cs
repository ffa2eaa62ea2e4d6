using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using NanoCam.Cpu.Threading;

namespace NanoCam.Cpu.Simd.Gemm;

/// <summary>
/// c = epilogue(A·x) for pre-packed 8-row weight panels and one column x (a 1×1 convolution on a 1×1 map: MobileNetV3's
/// squeeze-excitation layers): a tile would spend a whole vector on each single output column, so instead each
/// 16-lane load takes two depth steps of one panel, A[q·8 + i, p] for p, p + 1, times (x[p] ×8, x[p + 1] ×8), and the
/// two halves are added at the end (an odd last step in eight lanes). Four panels at a time share each x pair; panels
/// are split across the pool. Each output sums in one fixed order whatever the split.
/// </summary>
public sealed unsafe class PackedGemv : IParallelBody
{
    private const int PanelsPerTask = 4;

    private PackedWeights _a = null!;
    private float* _c, _x;
    private int _ldc, _tasks;
    private GemmEpilogue _epilogue;

    [ThreadStatic] private static float[]? _scratch;

    /// <summary>Whether the packed GEMV runs for weights packed in <paramref name="mr"/>-row panels (8, with AVX-512 in hardware).</summary>
    public static bool Applies(int mr) => mr == 8 && Vector512.IsHardwareAccelerated;

    /// <summary>c[i·ldc] = epilogue(Σ_p A[i, p]·x[p·incX]) for i &lt; a.Rows.</summary>
    public void Multiply(float* c, int ldc, PackedWeights a, float* x, int incX, GemmEpilogue epilogue, CpuThreadPool? pool)
    {
        if (a.Mr != 8) throw new ArgumentException($"packed GEMV: weights packed for {a.Mr}-row panels, not 8");
        if (a.Rows == 0) return;
        if (incX != 1)
        {
            float* gathered = Scratch(a.Depth);
            for (int p = 0; p < a.Depth; p++) gathered[p] = x[(long)p * incX];
            x = gathered;
        }
        _a = a;
        _c = c;
        _x = x;
        _ldc = ldc;
        _epilogue = epilogue;
        int chunks = (a.Panels + PanelsPerTask - 1) / PanelsPerTask;
        _tasks = pool is null || !pool.Splits((long)a.Rows * a.Depth * CpuThreadPool.ElementWork) ? 1 : Math.Min(chunks, pool.Threads);
        if (_tasks == 1) Execute(0);
        else pool!.For(_tasks, this);
    }

    public void Execute(int task)
    {
        int panels = _a.Panels, chunks = (panels + PanelsPerTask - 1) / PanelsPerTask;
        int q0 = (int)((long)chunks * task / _tasks) * PanelsPerTask, q1 = Math.Min(panels, (int)((long)chunks * (task + 1) / _tasks) * PanelsPerTask);
        float* sums = stackalloc float[8 * PanelsPerTask];
        for (int q = q0; q < q1; q += PanelsPerTask)
        {
            int count = Math.Min(PanelsPerTask, q1 - q);
            Panels(q, count, sums);
            for (int t = 0; t < count; t++)
            {
                int row0 = (q + t) * 8, valid = Math.Min(8, _a.Rows - row0);
                for (int i = 0; i < valid; i++) _c[(long)(row0 + i) * _ldc] = sums[t * 8 + i];
                if (!_epilogue.IsEmpty) _epilogue.Apply(_c + (long)row0 * _ldc, _ldc, valid, 0, 1, row0);
            }
        }
    }

    /// <summary>sums[t·8 + i] = Σ_p A[(q + t)·8 + i, p]·x[p] for t &lt; count ≤ 4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Panels(int q, int count, float* sums)
    {
        int depth = _a.Depth, kcStep = _a.KcStep;
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
        Vector256<float> h0 = default, h1 = default, h2 = default, h3 = default;
        for (int pc = 0; pc < depth; pc += kcStep)
        {
            int kc = Math.Min(kcStep, depth - pc), stride = 8 * kc;
            float* block = _a.Block(pc) + (long)q * stride;
            float* x = _x + pc;
            int pairs = kc / 2 * 2;
            if (count == 4)
            {
                for (int p = 0; p < pairs; p += 2)
                {
                    var xv = Vector512.Create(Vector256.Create(x[p]), Vector256.Create(x[p + 1]));
                    float* at = block + 8 * p;
                    s0 = Vector512.FusedMultiplyAdd(Vector512.Load(at), xv, s0);
                    s1 = Vector512.FusedMultiplyAdd(Vector512.Load(at + stride), xv, s1);
                    s2 = Vector512.FusedMultiplyAdd(Vector512.Load(at + 2 * stride), xv, s2);
                    s3 = Vector512.FusedMultiplyAdd(Vector512.Load(at + 3 * stride), xv, s3);
                }
                if (pairs < kc)
                {
                    var xh = Vector256.Create(x[pairs]);
                    float* at = block + 8 * pairs;
                    h0 = Vector256.FusedMultiplyAdd(Vector256.Load(at), xh, h0);
                    h1 = Vector256.FusedMultiplyAdd(Vector256.Load(at + stride), xh, h1);
                    h2 = Vector256.FusedMultiplyAdd(Vector256.Load(at + 2 * stride), xh, h2);
                    h3 = Vector256.FusedMultiplyAdd(Vector256.Load(at + 3 * stride), xh, h3);
                }
                continue;
            }
            for (int t = 0; t < count; t++)
            {
                float* panel = block + (long)t * stride;
                var s = t switch { 0 => s0, 1 => s1, 2 => s2, _ => s3 };
                var h = t switch { 0 => h0, 1 => h1, 2 => h2, _ => h3 };
                for (int p = 0; p < pairs; p += 2)
                    s = Vector512.FusedMultiplyAdd(Vector512.Load(panel + 8 * p), Vector512.Create(Vector256.Create(x[p]), Vector256.Create(x[p + 1])), s);
                if (pairs < kc) h = Vector256.FusedMultiplyAdd(Vector256.Load(panel + 8 * pairs), Vector256.Create(x[pairs]), h);
                switch (t)
                {
                    case 0: (s0, h0) = (s, h); break;
                    case 1: (s1, h1) = (s, h); break;
                    case 2: (s2, h2) = (s, h); break;
                    default: (s3, h3) = (s, h); break;
                }
            }
        }
        (s0.GetLower() + s0.GetUpper() + h0).Store(sums);
        (s1.GetLower() + s1.GetUpper() + h1).Store(sums + 8);
        (s2.GetLower() + s2.GetUpper() + h2).Store(sums + 16);
        (s3.GetLower() + s3.GetUpper() + h3).Store(sums + 24);
    }

    private static float* Scratch(int length)
    {
        var buffer = _scratch;
        if (buffer is null || buffer.Length < length) _scratch = buffer = GC.AllocateUninitializedArray<float>(length, pinned: true);
        return (float*)Unsafe.AsPointer(ref buffer[0]);
    }
}
