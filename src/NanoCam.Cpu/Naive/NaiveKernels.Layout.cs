namespace NanoCam.Cpu.Naive;

public sealed partial class NaiveKernels
{
    public void DropoutForward(Tensor output, Tensor mask, Tensor input, float probability, ulong seed)
    {
        var y = output.Span;
        var m = mask.Span;
        var x = input.Span;
        float keepScale = probability >= 1 ? 0 : 1f / (1 - probability);
        for (int i = 0; i < x.Length; i++)
        {
            // Inverted dropout: kept units are scaled by 1/(1−p) so that eval mode is the identity.
            m[i] = CounterRng.Uniform(seed, (ulong)i) >= probability ? keepScale : 0;
            y[i] = x[i] * m[i];
        }
    }

    // Concat as copies of blocks: the tensor is [outer, axisSize, inner]; the input's block sits at offset·inner.

    public void ConcatForward(Tensor output, Tensor input, int axis, int offset)
    {
        var (outer, inputBlock, outputBlock) = ConcatDims(output, input, axis);
        var y = output.Span;
        var x = input.Span;
        int start = offset * input.Shape.Product(axis + 1, input.Shape.Rank);
        for (int o = 0; o < outer; o++)
        for (int i = 0; i < inputBlock; i++)
            y[o * outputBlock + start + i] = x[o * inputBlock + i];
    }

    public void ConcatBackward(Tensor dInput, Tensor dOutput, int axis, int offset)
    {
        var (outer, inputBlock, outputBlock) = ConcatDims(dOutput, dInput, axis);
        var dy = dOutput.Span;
        var dx = dInput.Span;
        int start = offset * dInput.Shape.Product(axis + 1, dInput.Shape.Rank);
        for (int o = 0; o < outer; o++)
        for (int i = 0; i < inputBlock; i++)
            dx[o * inputBlock + i] += dy[o * outputBlock + start + i];
    }

    private static (int Outer, int InputBlock, int OutputBlock) ConcatDims(Tensor output, Tensor input, int axis) =>
        (input.Shape.Product(0, axis), input.Shape.Product(axis, input.Shape.Rank), output.Shape.Product(axis, output.Shape.Rank));

    public void Sum(Tensor output, Tensor input, float scale)
    {
        double sum = 0;
        foreach (var v in input.Span) sum += v;
        output.Span[0] = (float)(scale * sum);
    }

    public void SumBackward(Tensor dInput, Tensor dOutput, float scale)
    {
        var dx = dInput.Span;
        float g = scale * dOutput.Span[0];
        for (int i = 0; i < dx.Length; i++) dx[i] += g;
    }
}
