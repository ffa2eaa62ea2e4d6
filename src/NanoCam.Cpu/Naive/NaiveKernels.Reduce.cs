namespace NanoCam.Cpu.Naive;

// Reductions along one axis: the input is [outer, size, inner], element (o, j, i) at (o·size + j)·inner + i, and the
// output is [outer, inner].

public sealed partial class NaiveKernels
{
    /// <summary>Sum: y[o,i] = scale · Σ_j x[o,j,i] (in double); Max/Min: y[o,i] = max_j / min_j x[o,j,i], NaN if any is NaN.</summary>
    public void ReduceForward(ReduceKind kind, Tensor output, Tensor input, int outer, int size, int inner, float scale)
    {
        CheckReduce(output, input, outer, size, inner, "reduce");
        var y = output.Span;
        var x = input.Span;
        for (int o = 0; o < outer; o++)
        for (int i = 0; i < inner; i++)
        {
            if (kind == ReduceKind.Sum)
            {
                double sum = 0;
                for (int j = 0; j < size; j++) sum += x[(o * size + j) * inner + i];
                y[o * inner + i] = (float)(scale * sum);
                continue;
            }
            float extreme = kind == ReduceKind.Max ? float.NegativeInfinity : float.PositiveInfinity;
            for (int j = 0; j < size; j++)
            {
                float v = x[(o * size + j) * inner + i];
                if (float.IsNaN(v) || (kind == ReduceKind.Max ? v > extreme : v < extreme)) extreme = v;
                if (float.IsNaN(extreme)) break;
            }
            y[o * inner + i] = extreme;
        }
    }

    /// <summary>
    /// Sum: dx[o,j,i] += scale · dy[o,i]. Max/Min: ∂max/∂x_j = 1/T for each of the T elements equal to the result (a tie
    /// shares the gradient evenly, as PyTorch's amax/amin), 0 for the others.
    /// </summary>
    public void ReduceBackward(ReduceKind kind, Tensor dInput, Tensor dOutput, Tensor input, Tensor output, int outer, int size, int inner, float scale)
    {
        CheckReduce(dOutput, dInput, outer, size, inner, "reduce backward");
        var dx = dInput.Span;
        var dy = dOutput.Span;
        var x = input.Span;
        var y = output.Span;
        for (int o = 0; o < outer; o++)
        for (int i = 0; i < inner; i++)
        {
            float g = dy[o * inner + i];
            if (kind == ReduceKind.Sum)
            {
                for (int j = 0; j < size; j++) dx[(o * size + j) * inner + i] += scale * g;
                continue;
            }
            float extreme = y[o * inner + i];
            int ties = 0;
            for (int j = 0; j < size; j++)
                if (x[(o * size + j) * inner + i] == extreme) ties++;
            for (int j = 0; j < size; j++)
                if (x[(o * size + j) * inner + i] == extreme) dx[(o * size + j) * inner + i] += g / ties;
        }
    }

    /// <summary>
    /// y[o,i] = argmax_j (or argmin_j) x[o,j,i]: a later j replaces the best only when strictly better (or equal, with
    /// selectLast); a NaN beats every number (and, with selectLast, a later NaN beats an earlier one).
    /// </summary>
    public void ArgReduce(Tensor output, Tensor input, int outer, int size, int inner, bool max, bool selectLast)
    {
        CheckReduce(output, input, outer, size, inner, "arg-reduce");
        if (size == 0 && output.Size > 0) throw new ArgumentException("arg-reduce: the reduced axis is empty");
        var y = output.Span;
        var x = input.Span;
        for (int o = 0; o < outer; o++)
        for (int i = 0; i < inner; i++)
        {
            int best = 0;
            float bestValue = x[o * size * inner + i];
            for (int j = 1; j < size; j++)
            {
                float v = x[(o * size + j) * inner + i];
                if (Replaces(v, bestValue, max, selectLast)) (best, bestValue) = (j, v);
            }
            y[o * inner + i] = best;
        }
    }

    /// <summary>Whether a later candidate <paramref name="v"/> takes the place of <paramref name="best"/> in an arg-max/min scan.</summary>
    internal static bool Replaces(float v, float best, bool max, bool selectLast)
    {
        if (float.IsNaN(best)) return selectLast && float.IsNaN(v);
        if (float.IsNaN(v)) return true;
        return max ? v > best || (selectLast && v == best) : v < best || (selectLast && v == best);
    }

    internal static void CheckReduce(Tensor output, Tensor input, int outer, int size, int inner, string op)
    {
        if (outer < 0 || size < 0 || inner < 0) throw new ArgumentException($"{op}: negative size [{outer}, {size}, {inner}]");
        if ((long)outer * size * inner != input.Size) throw new ArgumentException($"{op}: input {input.Shape} is not [{outer}, {size}, {inner}]");
        if ((long)outer * inner != output.Size) throw new ArgumentException($"{op}: output {output.Shape} is not [{outer}, {inner}]");
    }
}
