using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using NanoCam.Cpu.Naive;
using NanoCam.Elementwise;

namespace NanoCam.Cpu.Simd;

public sealed partial class SimdKernels
{
    public unsafe void ActivationForward(Activation kind, Tensor output, Tensor input, ActivationParams p)
    {
        Check.SameSize(output, input, "activation");
        if (kind == Activation.Relu)
        {
            // y = max(x, 0), split across the pool like the backward (see SplitPasses).
            fixed (float* py = output.Data, px = input.Data)
                RunSplit(SplitPass.ReluForward, output.Size, output.Size, py, px, null);
            return;
        }
        var x = input.Span;
        var y = output.Span;
        switch (kind)
        {
            case Activation.Sigmoid: TensorPrimitives.Sigmoid(x, y); break;
            case Activation.Clip: TensorPrimitives.Clamp(x, p.Low, p.High, y); break;
            case Activation.Identity: x.CopyTo(y); break;
            default:
                // leaky ReLU: max(x, αx) for 0 ≤ α ≤ 1, else the reference loop.
                if (p.Alpha is >= 0 and <= 1)
                {
                    TensorPrimitives.Multiply(x, p.Alpha, y);
                    TensorPrimitives.Max(x, y, y);
                }
                else Reference.ActivationForward(kind, output, input, p);
                break;
        }
    }

    public void ActivationBackward(Activation kind, Tensor dInput, Tensor dOutput, Tensor input, Tensor output, ActivationParams p)
    {
        if (kind == Activation.Relu) ReluBackward(ReluBackwardRule.Standard, dInput, dOutput, input);
        else Reference.ActivationBackward(kind, dInput, dOutput, input, output, p);
    }

    /// <summary>dx (+)= dy · [x &gt; 0] (and [dy &gt; 0] for guided), split across the pool (see SplitPasses).</summary>
    public unsafe void ReluBackward(ReluBackwardRule rule, Tensor dInput, Tensor dOutput, Tensor input, bool accumulate = true)
    {
        if (rule == ReluBackwardRule.Deconvnet)
        {
            Reference.ReluBackward(rule, dInput, dOutput, input, accumulate);
            return;
        }
        Check.SameSize(dInput, dOutput, "relu backward");
        Check.SameSize(dInput, input, "relu backward");
        fixed (float* dx = dInput.Data, dy = dOutput.Data, x = input.Data)
            RunSplit(rule == ReluBackwardRule.Guided ? SplitPass.GuidedReluBackward : SplitPass.ReluBackward, dInput.Size, dInput.Size, dx, dy, x, accumulate: accumulate);
    }

    public void BinaryForward(BinaryOp op, Tensor output, Tensor a, Tensor b)
    {
        if (a.Shape == b.Shape && output.Size == a.Size)
        {
            var y = output.Span;
            switch (op)
            {
                case BinaryOp.Add: TensorPrimitives.Add(a.Span, b.Span, y); break;
                case BinaryOp.Sub: TensorPrimitives.Subtract(a.Span, b.Span, y); break;
                case BinaryOp.Mul: TensorPrimitives.Multiply(a.Span, b.Span, y); break;
                default: TensorPrimitives.Divide(a.Span, b.Span, y); break;
            }
            return;
        }
        if (b.Size == 1 && a.Size == output.Size)
        {
            // A scalar operand (a rank-0 constant: GELU's x/√2, + 1, · 0.5).
            Apply(op, a.Span, b.Span[0], output.Span);
            return;
        }
        if (a.Size == 1 && b.Size == output.Size)
        {
            Apply(op, a.Span[0], b.Span, output.Span);
            return;
        }
        if (a.Size == output.Size && BroadcastBlock.Of(output.Shape, b.Shape) is { } block)
        {
            ApplyBlocks(op, a.Span, b.Span, output.Span, block, repeatedFirst: false);
            return;
        }
        if (b.Size == output.Size && BroadcastBlock.Of(output.Shape, a.Shape) is { } reversed)
        {
            // a repeats (a squeeze-excitation scale times its map, scale · x).
            ApplyBlocks(op, b.Span, a.Span, output.Span, reversed, repeatedFirst: true);
            return;
        }
        // Any other broadcast (a scalar times a tensor, both operands broadcast): the generic strided kernel, which
        // keeps its layout from call to call instead of building index maps.
        switch (op)
        {
            case BinaryOp.Add: BinaryForward(output, a, b, new Elementwise.Add()); break;
            case BinaryOp.Sub: BinaryForward(output, a, b, new Subtract()); break;
            case BinaryOp.Mul: BinaryForward(output, a, b, new Multiply()); break;
            default: BinaryForward(output, a, b, new Divide()); break;
        }
    }

    /// <summary>
    /// y = full ∘ repeated (or repeated ∘ full when <paramref name="repeatedFirst"/>), the repeated operand spread over
    /// <paramref name="block"/>'s outer and inner axes: one vector op per contiguous run of one repeated value (inner &gt; 1),
    /// or per row of the repeated operand (inner = 1).
    /// </summary>
    private static void ApplyBlocks(BinaryOp op, ReadOnlySpan<float> full, ReadOnlySpan<float> repeated, Span<float> y, BroadcastBlock block, bool repeatedFirst)
    {
        for (int o = 0; o < block.Outer; o++)
        for (int m = 0; m < block.Middle; m++)
        {
            int start = (o * block.Middle + m) * block.Inner;
            if (block.Inner == 1 && m == 0)
            {
                var row = full.Slice(start, block.Middle);
                if (repeatedFirst) Apply(op, repeated, row, y.Slice(start, block.Middle));
                else Apply(op, row, repeated, y.Slice(start, block.Middle));
                break;
            }
            var run = full.Slice(start, block.Inner);
            if (repeatedFirst) Apply(op, repeated[m], run, y.Slice(start, block.Inner));
            else Apply(op, run, repeated[m], y.Slice(start, block.Inner));
        }
    }

    private static void Apply(BinaryOp op, float a, ReadOnlySpan<float> b, Span<float> y)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(b, a, y); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, y); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(b, a, y); break;
            default: TensorPrimitives.Divide(a, b, y); break;
        }
    }

    private static void Apply(BinaryOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(a, b, y); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, y); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(a, b, y); break;
            default: TensorPrimitives.Divide(a, b, y); break;
        }
    }

    private static void Apply(BinaryOp op, ReadOnlySpan<float> a, float b, Span<float> y)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(a, b, y); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, y); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(a, b, y); break;
            default: TensorPrimitives.Divide(a, b, y); break;
        }
    }

    public void BinaryBackward(BinaryOp op, Tensor? dA, Tensor? dB, Tensor dOutput, Tensor a, Tensor b)
    {
        if (a.Shape == b.Shape && op is BinaryOp.Add or BinaryOp.Sub)
        {
            if (dA is not null) TensorPrimitives.Add(dA.Span, dOutput.Span, dA.Span);
            if (dB is not null)
            {
                if (op == BinaryOp.Add) TensorPrimitives.Add(dB.Span, dOutput.Span, dB.Span);
                else TensorPrimitives.Subtract(dB.Span, dOutput.Span, dB.Span);
            }
            return;
        }
        if (op is BinaryOp.Add or BinaryOp.Sub && a.Size == dOutput.Size && BroadcastBlock.Of(dOutput.Shape, b.Shape) is { } block)
        {
            // ∂(a ± b)/∂a = 1; ∂/∂b = ±Σ over the repeated (outer, inner) positions.
            var dy = dOutput.Span;
            if (dA is not null) TensorPrimitives.Add(dA.Span, dy, dA.Span);
            if (dB is null) return;
            var db = dB.Span;
            float sign = op == BinaryOp.Add ? 1 : -1;
            for (int o = 0; o < block.Outer; o++)
            for (int m = 0; m < block.Middle; m++)
            {
                int start = (o * block.Middle + m) * block.Inner;
                if (block.Inner == 1)
                {
                    if (m > 0) break;
                    if (sign > 0) TensorPrimitives.Add(db, dy.Slice(start, block.Middle), db);
                    else TensorPrimitives.Subtract(db, dy.Slice(start, block.Middle), db);
                    break;
                }
                db[m] += sign * TensorPrimitives.Sum(dy.Slice(start, block.Inner));
            }
            return;
        }
        if (op is BinaryOp.Mul or BinaryOp.Div && a.Shape == dOutput.Shape && b.Shape == dOutput.Shape)
        {
            // One block per element would be slow: element-wise ∂(a·b) = (b, a)·dy and ∂(a/b) = (1/b, −a/b²)·dy.
            ReadOnlySpan<float> dy = dOutput.Span, av = a.Span, bv = b.Span;
            if (op == BinaryOp.Mul)
            {
                if (dA is not null) TensorPrimitives.MultiplyAdd(dy, bv, dA.Span, dA.Span);
                if (dB is not null) TensorPrimitives.MultiplyAdd(dy, av, dB.Span, dB.Span);
                return;
            }
            Span<float> da = dA is null ? default : dA.Span, db = dB is null ? default : dB.Span;
            for (int i = 0; i < dy.Length; i++)
            {
                if (dA is not null) da[i] += dy[i] / bv[i];
                if (dB is not null) db[i] -= dy[i] * av[i] / (bv[i] * bv[i]);
            }
            return;
        }
        if (op is BinaryOp.Mul or BinaryOp.Div && a.Shape == dOutput.Shape && BroadcastBlock.Of(dOutput.Shape, b.Shape) is { } scaled)
        {
            MulDivBackward(op, dA, dB, dOutput.Span, a.Span, b.Span, scaled);
            return;
        }
        // The generic strided kernel for the rest. Its derivatives read y only for a quotient (∂(a/b)/∂b = −y/b), and
        // this signature carries no y, so a division's goes to the reference kernel; the other three never read it.
        switch (op)
        {
            case BinaryOp.Add: BinaryBackward(dA, dB, dOutput, a, b, dOutput, new Elementwise.Add()); break;
            case BinaryOp.Sub: BinaryBackward(dA, dB, dOutput, a, b, dOutput, new Subtract()); break;
            case BinaryOp.Mul: BinaryBackward(dA, dB, dOutput, a, b, dOutput, new Multiply()); break;
            default: Reference.BinaryBackward(op, dA, dB, dOutput, a, b); break;
        }
    }

    // a ∘ b with b repeated over (outer, inner) around its block of `Middle` values, a of the output's shape:
    // ∂(a·b)/∂a = b, ∂/∂b = Σ dy·a;  ∂(a/b)/∂a = 1/b, ∂/∂b = −Σ dy·a / b².
    private static void MulDivBackward(BinaryOp op, Tensor? dA, Tensor? dB, ReadOnlySpan<float> dy, ReadOnlySpan<float> a, ReadOnlySpan<float> b, BroadcastBlock block)
    {
        Span<float> da = dA is null ? default : dA.Span, db = dB is null ? default : dB.Span;
        int inner = block.Inner;
        for (int o = 0; o < block.Outer; o++)
        for (int m = 0; m < block.Middle; m++)
        {
            int start = (o * block.Middle + m) * inner;
            var dySlice = dy.Slice(start, inner);
            float bm = b[m];
            if (dA is not null)
            {
                var daSlice = da.Slice(start, inner);
                if (op == BinaryOp.Mul) TensorPrimitives.MultiplyAdd(dySlice, bm, daSlice, daSlice);
                else for (int i = 0; i < inner; i++) daSlice[i] += dySlice[i] / bm;
            }
            if (dB is not null)
            {
                float dot = TensorPrimitives.Dot(dySlice, a.Slice(start, inner));
                db[m] += op == BinaryOp.Mul ? dot : -dot / (bm * bm);
            }
        }
    }
}
