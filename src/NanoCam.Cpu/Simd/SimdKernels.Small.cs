using System.Numerics.Tensors;

namespace NanoCam.Cpu.Simd;

/// <summary>Ops over class vectors, masks and copies: the reference arithmetic (see the class summary).</summary>
public sealed partial class SimdKernels
{
    public void SoftmaxForward(Tensor output, Tensor input, int outer, int classes, int inner) => Reference.SoftmaxForward(output, input, outer, classes, inner);
    public void SoftmaxBackward(Tensor dInput, Tensor dOutput, Tensor output, int outer, int classes, int inner) => Reference.SoftmaxBackward(dInput, dOutput, output, outer, classes, inner);
    public void LogSoftmaxForward(Tensor output, Tensor input, int outer, int classes, int inner) => Reference.LogSoftmaxForward(output, input, outer, classes, inner);
    public void LogSoftmaxBackward(Tensor dInput, Tensor dOutput, Tensor output, int outer, int classes, int inner) => Reference.LogSoftmaxBackward(dInput, dOutput, output, outer, classes, inner);
    public void CrossEntropyForward(Tensor loss, Tensor probabilities, Tensor logits, Tensor labels, int rows, int classes) => Reference.CrossEntropyForward(loss, probabilities, logits, labels, rows, classes);
    public void CrossEntropyBackward(Tensor dLogits, Tensor dLoss, Tensor probabilities, Tensor labels, int rows, int classes) => Reference.CrossEntropyBackward(dLogits, dLoss, probabilities, labels, rows, classes);
    public void DropoutForward(Tensor output, Tensor mask, Tensor input, float probability, ulong seed) => Reference.DropoutForward(output, mask, input, probability, seed);
    public void ConcatForward(Tensor output, Tensor input, int axis, int offset) => Reference.ConcatForward(output, input, axis, offset);
    public void ConcatBackward(Tensor dInput, Tensor dOutput, int axis, int offset) => Reference.ConcatBackward(dInput, dOutput, axis, offset);

    public void Sum(Tensor output, Tensor input, float scale) => Reference.Sum(output, input, scale);

    public void SumBackward(Tensor dInput, Tensor dOutput, float scale) =>
        TensorPrimitives.Add(dInput.Span, scale * dOutput.Span[0], dInput.Span);
}
