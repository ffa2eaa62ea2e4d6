using System.Numerics.Tensors;

namespace NanoCam.Cpu.Simd;

/// <summary>Ops over class vectors and masks: the reference arithmetic (see the class summary); concat as block copies.</summary>
public sealed partial class SimdKernels
{
    public void SoftmaxBackward(Tensor dInput, Tensor dOutput, Tensor output, int outer, int classes, int inner) => Reference.SoftmaxBackward(dInput, dOutput, output, outer, classes, inner);
    public void LogSoftmaxForward(Tensor output, Tensor input, int outer, int classes, int inner) => Reference.LogSoftmaxForward(output, input, outer, classes, inner);
    public void LogSoftmaxBackward(Tensor dInput, Tensor dOutput, Tensor output, int outer, int classes, int inner) => Reference.LogSoftmaxBackward(dInput, dOutput, output, outer, classes, inner);
    public void CrossEntropyForward(Tensor loss, Tensor probabilities, Tensor logits, Tensor labels, int rows, int classes) => Reference.CrossEntropyForward(loss, probabilities, logits, labels, rows, classes);
    public void CrossEntropyBackward(Tensor dLogits, Tensor dLoss, Tensor probabilities, Tensor labels, int rows, int classes) => Reference.CrossEntropyBackward(dLogits, dLoss, probabilities, labels, rows, classes);
    public void DropoutForward(Tensor output, Tensor mask, Tensor input, float probability, ulong seed) => Reference.DropoutForward(output, mask, input, probability, seed);

    /// <summary>Each of the input's outer blocks is one contiguous run of the output: block copies.</summary>
    public void ConcatForward(Tensor output, Tensor input, int axis, int offset)
    {
        var (outer, inputBlock, outputBlock, start) = ConcatBlocks(output, input, axis, offset);
        var y = output.Span;
        var x = input.Span;
        for (int o = 0; o < outer; o++) x.Slice(o * inputBlock, inputBlock).CopyTo(y.Slice(o * outputBlock + start, inputBlock));
    }

    public void ConcatBackward(Tensor dInput, Tensor dOutput, int axis, int offset)
    {
        var (outer, inputBlock, outputBlock, start) = ConcatBlocks(dOutput, dInput, axis, offset);
        var dy = dOutput.Span;
        var dx = dInput.Span;
        for (int o = 0; o < outer; o++)
        {
            var block = dx.Slice(o * inputBlock, inputBlock);
            TensorPrimitives.Add(block, dy.Slice(o * outputBlock + start, inputBlock), block);
        }
    }

    /// <summary>Outer count, input and output block sizes from the concat axis on, and where the input's block starts in the output's.</summary>
    private static (int Outer, int InputBlock, int OutputBlock, int Start) ConcatBlocks(Tensor output, Tensor input, int axis, int offset)
    {
        var (i, o) = (input.Shape, output.Shape);
        int inputBlock = i.Product(axis, i.Rank), outputBlock = o.Product(axis, o.Rank), start = offset * i.Product(axis + 1, i.Rank);
        if (start + inputBlock > outputBlock || i.Product(0, axis) * outputBlock != output.Size)
            throw new ArgumentException($"concat: input {i} at offset {offset} along axis {axis} does not fit output {o}");
        return (i.Product(0, axis), inputBlock, outputBlock, start);
    }

    public void Sum(Tensor output, Tensor input, float scale) => Reference.Sum(output, input, scale);

    public void SumBackward(Tensor dInput, Tensor dOutput, float scale) =>
        TensorPrimitives.Add(dInput.Span, scale * dOutput.Span[0], dInput.Span);
}
