using NanoCam.Autodiff;
using NanoCam.Nn.Init;
using NanoCam.Ops;

namespace NanoCam.Nn.Modules;

/// <summary>Fully connected layer y = x·Wᵀ + b, W [out, in] (PyTorch layout), Xavier-uniform initialized.</summary>
public sealed class Linear : Module
{
    public Linear(int inputFeatures, int outputFeatures, bool bias = true, Random? rng = null)
    {
        InputFeatures = inputFeatures;
        OutputFeatures = outputFeatures;
        var w = Tensor.Zeros(outputFeatures, inputFeatures);
        Initializers.XavierUniform(w, inputFeatures, outputFeatures, rng ?? new Random(0));
        Weight = AddParameter("weight", w);
        if (bias) Bias = AddParameter("bias", Tensor.Zeros(outputFeatures));
    }

    public int InputFeatures { get; }
    public int OutputFeatures { get; }
    public Parameter Weight { get; }
    public Parameter? Bias { get; }

    public override Tensor Forward(Tape tape, Tensor input)
    {
        if (input.Shape.Rank != 2 || input.Shape[1] != InputFeatures)
            throw new ArgumentException($"linear: input must be [N, {InputFeatures}], got {input.Shape}");
        var y = tape.MatMul(input, Weight.Value, transposeB: true);
        return Bias is null ? y : tape.Add(y, Bias.Value);
    }

    public override string ToString() => $"Linear({InputFeatures}→{OutputFeatures})";
}
