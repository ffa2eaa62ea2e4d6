using ILGPU;
using ILGPU.Algorithms;

namespace NanoCam.Gpu.Kernels;

/// <summary>
/// Softmax family along one axis of an [outer, classes, inner] view, one group per (o, i) line: the group's threads
/// stride over the classes and combine max and sums with block reductions. Element (o, c, i) sits at (o·classes + c)·inner + i.
/// </summary>
internal static class SoftmaxKernels
{
    private static int Start(int line, int classes, int inner) => line / inner * classes * inner + line % inner;

    /// <summary>max_c x and Σ_c e^{x_c − max} along one line (max subtracted so e^x cannot overflow), combined across the group.</summary>
    private static (float Max, float Sum) MaxAndExpSum(ArrayView<float> scratch, ArrayView<float> input, int start, int classes, int inner)
    {
        float max = float.NegativeInfinity;
        for (int c = Group.IdxX; c < classes; c += Group.DimX) max = XMath.Max(max, input[start + c * inner]);
        max = BlockReduce.Max(scratch, max);
        float sum = 0;
        for (int c = Group.IdxX; c < classes; c += Group.DimX) sum += XMath.Exp(input[start + c * inner] - max);
        return (max, BlockReduce.Sum(scratch, sum));
    }

    /// <summary>y_c = e^{x_c − max} / Σ_j e^{x_j − max}.</summary>
    public static void Forward(ArrayView<float> output, ArrayView<float> input, int classes, int inner)
    {
        var scratch = SharedMemory.Allocate<float>(BlockReduce.Threads);
        int start = Start(Grid.IdxX, classes, inner);
        var (max, sum) = MaxAndExpSum(scratch, input, start, classes, inner);
        for (int c = Group.IdxX; c < classes; c += Group.DimX) output[start + c * inner] = XMath.Exp(input[start + c * inner] - max) / sum;
    }

    /// <summary>dx_c += y_c · (dy_c − Σ_j dy_j y_j).</summary>
    public static void Backward(ArrayView<float> dInput, ArrayView<float> dOutput, ArrayView<float> output, int classes, int inner)
    {
        var scratch = SharedMemory.Allocate<float>(BlockReduce.Threads);
        int start = Start(Grid.IdxX, classes, inner);
        float dot = 0;
        for (int c = Group.IdxX; c < classes; c += Group.DimX) dot += dOutput[start + c * inner] * output[start + c * inner];
        dot = BlockReduce.Sum(scratch, dot);
        for (int c = Group.IdxX; c < classes; c += Group.DimX)
        {
            int at = start + c * inner;
            dInput[at] += output[at] * (dOutput[at] - dot);
        }
    }

    /// <summary>y_c = x_c − max − log Σ_j e^{x_j − max}.</summary>
    public static void LogForward(ArrayView<float> output, ArrayView<float> input, int classes, int inner)
    {
        var scratch = SharedMemory.Allocate<float>(BlockReduce.Threads);
        int start = Start(Grid.IdxX, classes, inner);
        var (max, sum) = MaxAndExpSum(scratch, input, start, classes, inner);
        float logSum = XMath.Log(sum);
        for (int c = Group.IdxX; c < classes; c += Group.DimX) output[start + c * inner] = input[start + c * inner] - max - logSum;
    }

    /// <summary>dx_c += dy_c − e^{y_c} · Σ_j dy_j.</summary>
    public static void LogBackward(ArrayView<float> dInput, ArrayView<float> dOutput, ArrayView<float> output, int classes, int inner)
    {
        var scratch = SharedMemory.Allocate<float>(BlockReduce.Threads);
        int start = Start(Grid.IdxX, classes, inner);
        float sum = 0;
        for (int c = Group.IdxX; c < classes; c += Group.DimX) sum += dOutput[start + c * inner];
        sum = BlockReduce.Sum(scratch, sum);
        for (int c = Group.IdxX; c < classes; c += Group.DimX)
        {
            int at = start + c * inner;
            dInput[at] += dOutput[at] - XMath.Exp(output[at]) * sum;
        }
    }

    /// <summary>
    /// One group per row: probabilities = softmax(logits), rowLoss[r] = max + log Σ e^{x − max} − x[label] (−log p_label from the
    /// logits, so a tiny probability does not become −∞). A label that is not a class index writes its row + 1 into badRow.
    /// </summary>
    public static void CrossEntropyRows(ArrayView<float> rowLoss, ArrayView<float> probabilities, ArrayView<int> badRow,
        ArrayView<float> logits, ArrayView<float> labels, int classes)
    {
        var scratch = SharedMemory.Allocate<float>(BlockReduce.Threads);
        int row = Grid.IdxX, start = row * classes;
        var (max, sum) = MaxAndExpSum(scratch, logits, start, classes, 1);
        for (int c = Group.IdxX; c < classes; c += Group.DimX) probabilities[start + c] = XMath.Exp(logits[start + c] - max) / sum;
        if (Group.IdxX != 0) return;
        float value = labels[row];
        int label = (int)value;
        if (label != value || label < 0 || label >= classes)
        {
            Atomic.Max(ref badRow[0], row + 1);
            rowLoss[row] = float.NaN;
            return;
        }
        rowLoss[row] = max + XMath.Log(sum) - logits[start + label];
    }

    /// <summary>dLogits += dLoss[0] · (p − onehot(label)) / rows, one thread per logit.</summary>
    public static void CrossEntropyBackward(Index1D i, ArrayView<float> dLogits, ArrayView<float> dLoss, ArrayView<float> probabilities,
        ArrayView<float> labels, int rows, int classes)
    {
        int row = i / classes, c = i - row * classes;
        float target = (int)labels[row] == c ? 1f : 0f;
        dLogits[i] += dLoss[0] / rows * (probabilities[i] - target);
    }
}
