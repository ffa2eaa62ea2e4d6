using NanoCam.Elementwise;
using NanoCam.Gpu.Kernels;

namespace NanoCam.Gpu;

public sealed partial class IlgpuKernels
{
    // The generic element-wise kernels (one compiled kernel per operator struct), select, remap and axis reductions.

    public void UnaryForward<TOp>(Tensor output, Tensor input, TOp op) where TOp : struct, IUnaryFunction
    {
        SameSize(output, input, op.Name);
        if (input.Size > 0) _kernels.FunctionUnary<TOp>()(input.Size, View(output), View(input), op);
    }

    public void UnaryBackward<TOp>(Tensor dInput, Tensor dOutput, Tensor input, Tensor output, TOp op) where TOp : struct, IUnaryFunction
    {
        SameSize(dInput, dOutput, op.Name);
        SameSize(dInput, input, op.Name);
        SameSize(dInput, output, op.Name);
        if (dInput.Size > 0) _kernels.FunctionUnaryBackward<TOp>()(dInput.Size, View(dInput), View(dOutput), View(input), View(output), op);
    }

    public void BinaryForward<TOp>(Tensor output, Tensor a, Tensor b, TOp op) where TOp : struct, IBinaryFunction
    {
        var map = new BroadcastIndex(output.Shape, a.Shape, b.Shape);
        if (output.Size > 0) _kernels.FunctionBinary<TOp>()(output.Size, View(output), View(a), View(b), map, op);
    }

    public void BinaryBackward<TOp>(Tensor? dA, Tensor? dB, Tensor dOutput, Tensor a, Tensor b, Tensor output, TOp op) where TOp : struct, IBinaryFunction
    {
        SameSize(dOutput, output, op.Name);
        if (dA is null && dB is null || dOutput.Size == 0) return;
        var map = new BroadcastIndex(dOutput.Shape, a.Shape, b.Shape);
        var targets = new BinaryTargets(dA is null ? 0 : 1, dB is null ? 0 : 1, a.Size == dOutput.Size ? 1 : 0, b.Size == dOutput.Size ? 1 : 0);
        _kernels.FunctionBinaryBackward<TOp>()(dOutput.Size, ViewOrNone(dA), ViewOrNone(dB), View(dOutput), View(a), View(b), View(output), map, targets, op);
    }

    public void SelectForward(Tensor output, Tensor condition, Tensor a, Tensor b)
    {
        SameSize(output, condition, "where");
        SameSize(output, a, "where");
        SameSize(output, b, "where");
        if (output.Size > 0) _kernels.Select(output.Size, View(output), View(condition), View(a), View(b));
    }

    public void SelectBackward(Tensor? dA, Tensor? dB, Tensor dOutput, Tensor condition)
    {
        SameSize(dOutput, condition, "where backward");
        if (dA is null && dB is null || dOutput.Size == 0) return;
        // Two distinct placeholders: a missing gradient must not alias the other one.
        var none = Scratch(2);
        _kernels.SelectBackward(dOutput.Size, dA is null ? none.SubView(0, 1) : View(dA), dB is null ? none.SubView(1, 1) : View(dB),
            View(dOutput), View(condition), dA is null ? 0 : 1, dB is null ? 0 : 1);
    }

    public void RemapForward(Tensor output, Tensor input, RemapPlan plan)
    {
        CheckRemap(output, input, plan, "remap");
        if (plan.OutputSize > 0) _kernels.RemapForward(plan.OutputSize, View(output), View(input), new RemapIndex(plan));
    }

    /// <summary>dx[offset(i)] += dy[i], with atomic adds unless the plan reads each input element once.</summary>
    public void RemapBackward(Tensor dInput, Tensor dOutput, RemapPlan plan)
    {
        CheckRemap(dOutput, dInput, plan, "remap backward");
        if (plan.OutputSize > 0) _kernels.RemapBackward(plan.OutputSize, View(dInput), View(dOutput), new RemapIndex(plan), plan.IsInjective ? 1 : 0);
    }

    private static void CheckRemap(Tensor output, Tensor input, RemapPlan plan, string op)
    {
        if (output.Size != plan.OutputSize) throw new ArgumentException($"{op}: output {output.Shape} holds {output.Size} elements, the plan writes {plan.OutputSize}");
        if (input.Size < plan.MinimumInputSize) throw new ArgumentException($"{op}: input {input.Shape} holds {input.Size} elements, the plan reads up to {plan.MinimumInputSize}");
    }

    /// <summary>Lines of at least this many elements are reduced by a whole group, shorter ones by one thread each.</summary>
    private const int GroupReduceLength = 64;

    public void ReduceForward(ReduceKind kind, Tensor output, Tensor input, int outer, int size, int inner, float scale)
    {
        CheckReduce(output, input, outer, size, inner, "reduce");
        int lines = outer * inner;
        if (lines == 0) return;
        if (size >= GroupReduceLength) _kernels.ReduceLinesByGroup(Reduce(lines), View(output), View(input), (int)kind, size, inner, scale);
        else _kernels.ReduceLines(lines, View(output), View(input), (int)kind, size, inner, scale);
    }

    /// <summary>Sum: one thread per input element. Max/min: tie counts per line into scratch, then one thread per input element.</summary>
    public void ReduceBackward(ReduceKind kind, Tensor dInput, Tensor dOutput, Tensor input, Tensor output, int outer, int size, int inner, float scale)
    {
        CheckReduce(dOutput, dInput, outer, size, inner, "reduce backward");
        if (dInput.Size == 0) return;
        if (kind == ReduceKind.Sum)
        {
            _kernels.ReduceSumBackward(dInput.Size, View(dInput), View(dOutput), size, inner, scale);
            return;
        }
        var counts = Scratch(outer * inner);
        _kernels.TieCounts(outer * inner, counts, View(input), View(output), size, inner);
        _kernels.TiesBackward(dInput.Size, View(dInput), View(dOutput), View(input), View(output), counts, size, inner);
    }

    public void ArgReduce(Tensor output, Tensor input, int outer, int size, int inner, bool max, bool selectLast)
    {
        CheckReduce(output, input, outer, size, inner, "arg-reduce");
        if (output.Size == 0) return;
        if (size == 0) throw new ArgumentException("arg-reduce: the reduced axis is empty");
        _kernels.ArgReduce(output.Size, View(output), View(input), size, inner, max ? 1 : 0, selectLast ? 1 : 0);
    }

    private static void CheckReduce(Tensor output, Tensor input, int outer, int size, int inner, string op)
    {
        if (outer < 0 || size < 0 || inner < 0) throw new ArgumentException($"{op}: negative size [{outer}, {size}, {inner}]");
        if ((long)outer * size * inner != input.Size) throw new ArgumentException($"{op}: input {input.Shape} is not [{outer}, {size}, {inner}]");
        if ((long)outer * inner != output.Size) throw new ArgumentException($"{op}: output {output.Shape} is not [{outer}, {inner}]");
    }
}
