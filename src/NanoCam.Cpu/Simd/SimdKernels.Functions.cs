using System.Runtime.Intrinsics;
using NanoCam.Cpu.Threading;
using NanoCam.Elementwise;

namespace NanoCam.Cpu.Simd;

// The generic element-wise kernels. Each is a job generic over the operator struct, so the JIT compiles one loop per
// function with Value/Derivative inlined; a function with a vector body (IVectorUnaryFunction) runs in Vector512 (or
// Vector256) lanes, one loop generic over the width (IFloatLanes). Work is split across the pool in contiguous ranges;
// a broadcasting backward splits along an axis where each broadcast operand varies, so no two tasks add into one
// gradient element and every element's additions happen in the same order at any thread count.

public sealed unsafe partial class SimdKernels
{
    /// <summary>Work units per element of a generic element-wise pass (its functions cost more than a copy): 16 Ki elements and up are split.</summary>
    private const long FunctionElementWork = 4 * CpuThreadPool.ElementWork;

    private int TasksFor(long elements, int parts) => _pool.TasksFor(elements * FunctionElementWork, parts);

    public void UnaryForward<TOp>(Tensor output, Tensor input, TOp op) where TOp : struct, IUnaryFunction
    {
        Check.SameSize(output, input, op.Name);
        fixed (float* y = output.Data, x = input.Data)
            RunUnary(op, output.Size, y, x, null, null);
    }

    public void UnaryBackward<TOp>(Tensor dInput, Tensor dOutput, Tensor input, Tensor output, TOp op) where TOp : struct, IUnaryFunction
    {
        Check.SameSize(dInput, dOutput, op.Name);
        Check.SameSize(dInput, input, op.Name);
        Check.SameSize(dInput, output, op.Name);
        fixed (float* dx = dInput.Data, dy = dOutput.Data, x = input.Data, y = output.Data)
            RunUnary(op, dInput.Size, y, x, dy, dx);
    }

    private void RunUnary<TOp>(TOp op, int count, float* y, float* x, float* dy, float* dx) where TOp : struct, IUnaryFunction
    {
        if (count == 0) return;
        var job = UnaryJob<TOp>.Instance;
        job.Op = op;
        job.Y = y;
        job.X = x;
        job.DY = dy;
        job.DX = dx;
        job.Count = count;
        job.Tasks = TasksFor(count, count / 16);
        _pool.For(job.Tasks, job);
    }

    /// <summary>
    /// y = f(x) (DX null) or dx += f'(x, y)·dy over a range of elements; one instance per function and calling thread:
    /// a <see cref="VectorUnaryJob{TOp}"/> when the function has a vector body (decided once per function, so the op is
    /// never boxed), else this scalar loop.
    /// </summary>
    private class UnaryJob<TOp> : IParallelBody where TOp : struct, IUnaryFunction
    {
        [ThreadStatic] private static UnaryJob<TOp>? t_instance;
        public static UnaryJob<TOp> Instance => t_instance ??= Create();

        public TOp Op;
        public float* Y, X, DY, DX;
        public int Count, Tasks;

        private static UnaryJob<TOp> Create()
        {
            var job = typeof(IVectorUnaryGradient).IsAssignableFrom(typeof(TOp)) ? typeof(VectorGradientUnaryJob<>)
                : typeof(IVectorUnaryFunction).IsAssignableFrom(typeof(TOp)) ? typeof(VectorUnaryJob<>)
                : null;
            return job is null ? new UnaryJob<TOp>() : (UnaryJob<TOp>)Activator.CreateInstance(job.MakeGenericType(typeof(TOp)))!;
        }

        public void Execute(int task)
        {
            int start = (int)((long)Count * task / Tasks), end = (int)((long)Count * (task + 1) / Tasks);
            if (DX is null) Forward(start, end);
            else Backward(start, end);
        }

        /// <summary>dx[i] += f'(x[i], y[i])·dy[i] for i in [start, end).</summary>
        protected virtual void Backward(int start, int end)
        {
            var op = Op;
            float* y = Y, x = X, dy = DY, dx = DX;
            for (int i = start; i < end; i++) dx[i] += op.Derivative(x[i], y[i]) * dy[i];
        }

        /// <summary>y[i] = f(x[i]) for i in [start, end); y may be x itself.</summary>
        protected virtual void Forward(int start, int end)
        {
            var op = Op;
            float* y = Y, x = X;
            for (int i = start; i < end; i++) y[i] = op.Value(x[i]);
        }
    }

    /// <summary>
    /// The forward of a function with a vector body: sixteen lanes at a time where AVX-512 runs in hardware, else eight;
    /// the last partial vector goes through a zero-padded copy on the stack, so every element takes the vector path
    /// (one result per input at any split) and an in-place pass never reads an element it has written.
    /// </summary>
    private class VectorUnaryJob<TOp> : UnaryJob<TOp> where TOp : struct, IVectorUnaryFunction
    {
        protected override void Forward(int start, int end)
        {
            if (Lanes512.IsHardwareAccelerated) Forward<Lanes512>(start, end);
            else if (Lanes256.IsHardwareAccelerated) Forward<Lanes256>(start, end);
            else base.Forward(start, end);
        }

        private void Forward<TLanes>(int start, int end) where TLanes : struct, IFloatLanes<TLanes>
        {
            var op = Op;
            float* y = Y, x = X;
            int i = start, width = TLanes.Count;
            for (; i + width <= end; i += width) op.VectorValue(TLanes.Load(x + i)).Store(y + i);
            if (i == end) return;
            float* lanes = stackalloc float[MaxLanes];
            TLanes.Zero.Store(lanes);
            for (int k = i; k < end; k++) lanes[k - i] = x[k];
            op.VectorValue(TLanes.Load(lanes)).Store(lanes);
            for (int k = i; k < end; k++) y[k] = lanes[k - i];
        }
    }

    /// <summary>The widest vector the element-wise jobs run (<see cref="Lanes512"/>), for their zero-padded tails on the stack.</summary>
    private const int MaxLanes = 16;

    /// <summary>
    /// The backward of a function whose derivative has a vector body: dx += f'(x, y)·dy sixteen (or eight) lanes at a
    /// time, the last partial vector through zero-padded copies on the stack, as the forward.
    /// </summary>
    private sealed class VectorGradientUnaryJob<TOp> : VectorUnaryJob<TOp> where TOp : struct, IVectorUnaryGradient
    {
        protected override void Backward(int start, int end)
        {
            if (Lanes512.IsHardwareAccelerated) Backward<Lanes512>(start, end);
            else if (Lanes256.IsHardwareAccelerated) Backward<Lanes256>(start, end);
            else base.Backward(start, end);
        }

        private void Backward<TLanes>(int start, int end) where TLanes : struct, IFloatLanes<TLanes>
        {
            var op = Op;
            float* y = Y, x = X, dy = DY, dx = DX;
            int i = start, width = TLanes.Count;
            for (; i + width <= end; i += width)
                (TLanes.Load(dx + i) + op.VectorDerivative(TLanes.Load(x + i), TLanes.Load(y + i)) * TLanes.Load(dy + i)).Store(dx + i);
            if (i == end) return;
            float* lanes = stackalloc float[2 * MaxLanes];
            TLanes.Zero.Store(lanes);
            TLanes.Zero.Store(lanes + width);
            for (int k = i; k < end; k++) (lanes[k - i], lanes[width + k - i]) = (x[k], y[k]);
            op.VectorDerivative(TLanes.Load(lanes), TLanes.Load(lanes + width)).Store(lanes);
            for (int k = i; k < end; k++) dx[k] += lanes[k - i] * dy[k];
        }
    }

    public void BinaryForward<TOp>(Tensor output, Tensor a, Tensor b, TOp op) where TOp : struct, IBinaryFunction
    {
        // PReLU (an ONNX activation with a per-channel slope) has its own vector loop; the test folds away for other ops.
        if (typeof(TOp) == typeof(PRelu) && TryPReluForward(output, a, b)) return;
        var job = BinaryJob<TOp>.Instance;
        job.Layout.Build(output.Shape, a.Shape, b.Shape);
        if (output.Size == 0) return;
        fixed (float* y = output.Data, pa = a.Data, pb = b.Data)
        {
            job.Op = op;
            job.Y = y;
            job.A = pa;
            job.B = pb;
            job.DY = null;
            job.DA = null;
            job.DB = null;
            RunBinary(job, job.Layout.SplitAxis(false, false), output.Size);
        }
    }

    public void BinaryBackward<TOp>(Tensor? dA, Tensor? dB, Tensor dOutput, Tensor a, Tensor b, Tensor output, TOp op) where TOp : struct, IBinaryFunction
    {
        Check.SameSize(dOutput, output, op.Name);
        var job = BinaryJob<TOp>.Instance;
        job.Layout.Build(dOutput.Shape, a.Shape, b.Shape);
        if (dOutput.Size == 0 || (dA is null && dB is null)) return;
        bool broadcastA = dA is not null && a.Size != dOutput.Size, broadcastB = dB is not null && b.Size != dOutput.Size;
        fixed (float* y = output.Data, pa = a.Data, pb = b.Data, dy = dOutput.Data, da = dA is null ? null : dA.Data, db = dB is null ? null : dB.Data)
        {
            job.Op = op;
            job.Y = y;
            job.A = pa;
            job.B = pb;
            job.DY = dy;
            int both = job.Layout.SplitAxis(broadcastA, broadcastB);
            if (both >= 0 || !(broadcastA && broadcastB))
            {
                // One pass: an axis both broadcast gradients vary along (or none needed: a direct one splits anywhere).
                job.DA = da;
                job.DB = db;
                RunBinary(job, both, dOutput.Size);
                return;
            }
            // a and b are broadcast along different axes: one pass per gradient, each split where its operand varies.
            job.DA = da;
            job.DB = null;
            RunBinary(job, job.Layout.SplitAxis(true, false), dOutput.Size);
            job.DA = null;
            job.DB = db;
            RunBinary(job, job.Layout.SplitAxis(false, true), dOutput.Size);
        }
    }

    /// <summary>Runs a binary job split along <paramref name="axis"/> (−1: one task, e.g. a gradient broadcast along every axis).</summary>
    private void RunBinary<TOp>(BinaryJob<TOp> job, int axis, int elements) where TOp : struct, IBinaryFunction
    {
        job.SplitAxis = Math.Max(axis, 0);
        job.Tasks = axis < 0 ? 1 : TasksFor(elements, job.Layout.Dims[axis]);
        _pool.For(job.Tasks, job);
    }

    /// <summary>
    /// Forward (DA and DB null): y = f(a, b) row by row; backward: dA += ∂f/∂a·dy and dB += ∂f/∂b·dy, a run's sum added
    /// once where the operand is broadcast along the row. Task t takes coordinates [t·n/T, (t+1)·n/T) of the split axis.
    /// </summary>
    private sealed class BinaryJob<TOp> : IParallelBody where TOp : struct, IBinaryFunction
    {
        [ThreadStatic] private static BinaryJob<TOp>? t_instance;
        public static BinaryJob<TOp> Instance => t_instance ??= new BinaryJob<TOp>();

        public readonly BroadcastLayout Layout = new();
        public TOp Op;
        public float* Y, A, B, DY, DA, DB;
        public int SplitAxis, Tasks;

        public void Execute(int task)
        {
            var dims = Layout.Dims;
            int last = Layout.Rank - 1, n = dims[SplitAxis], columns = Layout.Columns;
            int c0 = (int)((long)n * task / Tasks), c1 = (int)((long)n * (task + 1) / Tasks);
            if (SplitAxis == last)
            {
                for (int row = 0; row < Layout.Rows; row++) Run(row, c0, c1);
                return;
            }
            int before = 1, after = 1;
            for (int k = 0; k < SplitAxis; k++) before *= dims[k];
            for (int k = SplitAxis + 1; k < last; k++) after *= dims[k];
            for (int p = 0; p < before; p++)
            for (int c = c0; c < c1; c++)
            for (int q = 0; q < after; q++)
                Run((p * n + c) * after + q, 0, columns);
        }

        private void Run(int row, int j0, int j1)
        {
            Layout.RowOffsets(row, out int oa, out int ob);
            int last = Layout.Rank - 1, oy = row * Layout.Columns;
            bool varyA = Layout.StridesA[last] != 0, varyB = Layout.StridesB[last] != 0;
            float* a = A + oa, b = B + ob, y = Y + oy;
            var op = Op;
            if (DA is null && DB is null)
            {
                if (varyA && varyB) for (int j = j0; j < j1; j++) y[j] = op.Value(a[j], b[j]);
                else if (varyA) { float bv = b[0]; for (int j = j0; j < j1; j++) y[j] = op.Value(a[j], bv); }
                else if (varyB) { float av = a[0]; for (int j = j0; j < j1; j++) y[j] = op.Value(av, b[j]); }
                else { float v = op.Value(a[0], b[0]); for (int j = j0; j < j1; j++) y[j] = v; }
                return;
            }
            float* dy = DY + oy;
            int sa = varyA ? 1 : 0, sb = varyB ? 1 : 0;
            if (DA is not null)
            {
                float* da = DA + oa;
                if (varyA) for (int j = j0; j < j1; j++) da[j] += op.DerivativeA(a[j], b[j * sb], y[j]) * dy[j];
                else
                {
                    float sum = 0;
                    for (int j = j0; j < j1; j++) sum += op.DerivativeA(a[0], b[j * sb], y[j]) * dy[j];
                    da[0] += sum;
                }
            }
            if (DB is not null)
            {
                float* db = DB + ob;
                if (varyB) for (int j = j0; j < j1; j++) db[j] += op.DerivativeB(a[j * sa], b[j], y[j]) * dy[j];
                else
                {
                    float sum = 0;
                    for (int j = j0; j < j1; j++) sum += op.DerivativeB(a[j * sa], b[0], y[j]) * dy[j];
                    db[0] += sum;
                }
            }
        }
    }

    /// <summary>y = c ≠ 0 ? a : b, sixteen lanes at a time (a lane mask from c ≠ 0, NaN counting as true), split across the pool.</summary>
    public void SelectForward(Tensor output, Tensor condition, Tensor a, Tensor b)
    {
        Check.SameSize(output, condition, "where");
        Check.SameSize(output, a, "where");
        Check.SameSize(output, b, "where");
        fixed (float* y = output.Data, c = condition.Data, pa = a.Data, pb = b.Data)
            RunSelect(output.Size, c, y, pa, pb, null, null);
    }

    /// <summary>dA += c ≠ 0 ? dy : 0 and dB += c ≠ 0 ? 0 : dy, sixteen lanes at a time.</summary>
    public void SelectBackward(Tensor? dA, Tensor? dB, Tensor dOutput, Tensor condition)
    {
        Check.SameSize(dOutput, condition, "where backward");
        if (dA is null && dB is null) return;
        fixed (float* dy = dOutput.Data, c = condition.Data, da = dA is null ? null : dA.Data, db = dB is null ? null : dB.Data)
            RunSelect(dOutput.Size, c, null, null, null, dy, da, db);
    }

    private readonly SelectJob _selectJob = new();

    private void RunSelect(int count, float* c, float* y, float* a, float* b, float* dy, float* da, float* db = null)
    {
        if (count == 0) return;
        var job = _selectJob;
        job.Count = count;
        job.C = c;
        job.Y = y;
        job.A = a;
        job.B = b;
        job.DY = dy;
        job.DA = da;
        job.DB = db;
        job.Tasks = _pool.TasksFor((long)count * CpuThreadPool.ElementWork, count / 16);
        _pool.For(job.Tasks, job);
    }

    private sealed class SelectJob : IParallelBody
    {
        public int Count, Tasks;
        public float* C, Y, A, B, DY, DA, DB;

        public void Execute(int task)
        {
            // Ranges start on a 16-float boundary so every task but the last runs whole vectors.
            int start = task == 0 ? 0 : (int)(((long)Count * task / Tasks) & ~15L);
            int end = task == Tasks - 1 ? Count : (int)(((long)Count * (task + 1) / Tasks) & ~15L);
            int i = start;
            if (DY is null)
            {
                for (; i + 16 <= end; i += 16)
                {
                    var pick = ~Vector512.Equals(Vector512.Load(C + i), Vector512<float>.Zero);
                    Vector512.ConditionalSelect(pick, Vector512.Load(A + i), Vector512.Load(B + i)).Store(Y + i);
                }
                for (; i < end; i++) Y[i] = C[i] != 0 ? A[i] : B[i];
                return;
            }
            for (; i + 16 <= end; i += 16)
            {
                var pick = ~Vector512.Equals(Vector512.Load(C + i), Vector512<float>.Zero);
                var g = Vector512.Load(DY + i);
                // Selects rather than adding masked zeros, which would turn a −0 gradient into +0.
                if (DA is not null) { var da = Vector512.Load(DA + i); Vector512.ConditionalSelect(pick, da + g, da).Store(DA + i); }
                if (DB is not null) { var db = Vector512.Load(DB + i); Vector512.ConditionalSelect(pick, db, db + g).Store(DB + i); }
            }
            for (; i < end; i++)
            {
                if (C[i] != 0) { if (DA is not null) DA[i] += DY[i]; }
                else if (DB is not null) DB[i] += DY[i];
            }
        }
    }
}
