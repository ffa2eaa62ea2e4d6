using ILGPU;

namespace NanoCam.Gpu.Kernels;

/// <summary>
/// Whole-tensor sums, and reductions along one axis of an [outer, size, inner] view: a line is one (o, i) pair, its
/// elements j sit at (o·size + j)·inner + i, and its result at o·inner + i. A long line is reduced by one group (its
/// threads stride over j, then a block reduction); short lines one thread each.
/// </summary>
internal static class ReductionKernels
{
    /// <summary>output[0] = scale · Σ input, by one group: each thread sums a strided share, then a block reduction.</summary>
    public static void Sum(ArrayView<float> output, ArrayView<float> input, int length, float scale)
    {
        var scratch = SharedMemory.Allocate<float>(BlockReduce.Threads);
        float sum = 0;
        for (int i = Group.IdxX; i < length; i += Group.DimX) sum += input[i];
        sum = BlockReduce.Sum(scratch, sum);
        if (Group.IdxX == 0) output[0] = scale * sum;
    }

    /// <summary>dInput += scale · dOutput[0] everywhere.</summary>
    public static void SumBackward(Index1D i, ArrayView<float> dInput, ArrayView<float> dOutput, float scale) =>
        dInput[i] += scale * dOutput[0];

    private static int LineStart(int line, int size, int inner) => line / inner * size * inner + line % inner;

    /// <summary>One thread per line: kind 0 (Sum) scale·Σ_j x, 1 (Max) / 2 (Min) the extreme over j, NaN-propagating.</summary>
    public static void ReduceLines(Index1D line, ArrayView<float> output, ArrayView<float> input, int kind, int size, int inner, float scale)
    {
        int start = LineStart(line, size, inner);
        if (kind == (int)ReduceKind.Sum)
        {
            float sum = 0;
            for (int j = 0; j < size; j++) sum += input[start + j * inner];
            output[line] = scale * sum;
            return;
        }
        bool max = kind == (int)ReduceKind.Max;
        float extreme = max ? float.NegativeInfinity : float.PositiveInfinity;
        for (int j = 0; j < size; j++) extreme = BlockReduce.Pick(extreme, input[start + j * inner], max);
        output[line] = extreme;
    }

    /// <summary>One group per line (Grid.IdxX): the same reduction with the group's threads striding over j.</summary>
    public static void ReduceLinesByGroup(ArrayView<float> output, ArrayView<float> input, int kind, int size, int inner, float scale)
    {
        var scratch = SharedMemory.Allocate<float>(BlockReduce.Threads);
        int line = Grid.IdxX, start = LineStart(line, size, inner);
        if (kind == (int)ReduceKind.Sum)
        {
            float sum = 0;
            for (int j = Group.IdxX; j < size; j += Group.DimX) sum += input[start + j * inner];
            sum = BlockReduce.Sum(scratch, sum);
            if (Group.IdxX == 0) output[line] = scale * sum;
            return;
        }
        bool max = kind == (int)ReduceKind.Max;
        float extreme = max ? float.NegativeInfinity : float.PositiveInfinity;
        for (int j = Group.IdxX; j < size; j += Group.DimX) extreme = BlockReduce.Pick(extreme, input[start + j * inner], max);
        extreme = BlockReduce.Extreme(scratch, extreme, max);
        if (Group.IdxX == 0) output[line] = extreme;
    }

    /// <summary>Sum backward, one thread per input element: dx[o, j, i] += scale · dy[o, i].</summary>
    public static void ReduceSumBackward(Index1D index, ArrayView<float> dInput, ArrayView<float> dOutput, int size, int inner, float scale) =>
        dInput[index] += scale * dOutput[index / (size * inner) * inner + index % inner];

    /// <summary>Max/min backward, first pass, one thread per line: counts[line] = #{j : x_j = y}.</summary>
    public static void TieCounts(Index1D line, ArrayView<float> counts, ArrayView<float> input, ArrayView<float> output, int size, int inner)
    {
        int start = LineStart(line, size, inner), ties = 0;
        float extreme = output[line];
        for (int j = 0; j < size; j++)
            if (input[start + j * inner] == extreme) ties++;
        counts[line] = ties;
    }

    /// <summary>Max/min backward, second pass, one thread per input element: dx += dy / ties where x equals the result.</summary>
    public static void TiesBackward(Index1D index, ArrayView<float> dInput, ArrayView<float> dOutput, ArrayView<float> input,
        ArrayView<float> output, ArrayView<float> counts, int size, int inner)
    {
        int line = index / (size * inner) * inner + index % inner;
        if (input[index] == output[line]) dInput[index] += dOutput[line] / counts[line];
    }

    /// <summary>
    /// Arg-max (max ≠ 0) or arg-min, one thread per line: a later j replaces the best when strictly better, or equal with
    /// selectLast; a NaN beats every number (the naive backend's NaiveKernels.Replaces).
    /// </summary>
    public static void ArgReduce(Index1D line, ArrayView<float> output, ArrayView<float> input, int size, int inner, int max, int selectLast)
    {
        int start = LineStart(line, size, inner), best = 0;
        float bestValue = input[start];
        for (int j = 1; j < size; j++)
        {
            float v = input[start + j * inner];
            bool replace = float.IsNaN(bestValue)
                ? selectLast != 0 && float.IsNaN(v)
                : float.IsNaN(v) || (max != 0 ? v > bestValue : v < bestValue) || (selectLast != 0 && v == bestValue);
            if (replace)
            {
                best = j;
                bestValue = v;
            }
        }
        output[line] = best;
    }
}
