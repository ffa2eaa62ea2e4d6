using NanoCam.Autodiff;
using NanoCam.Nn.Init;
using NanoCam.Ops;

namespace NanoCam.Nn.Modules;

/// <summary>2-D convolution layer, weight [out, in/groups, k, k] initialized Kaiming-normal (fan-in, gain √2).</summary>
public sealed class Conv2d : Module
{
    public Conv2d(int inputChannels, int outputChannels, int kernel, int stride = 1, int padding = 0, int dilation = 1, int groups = 1, bool bias = true, Random? rng = null)
    {
        if (inputChannels % groups != 0 || outputChannels % groups != 0)
            throw new ArgumentException($"conv2d: groups={groups} must divide {inputChannels} input and {outputChannels} output channels");
        InputChannels = inputChannels;
        OutputChannels = outputChannels;
        Kernel = kernel;
        Stride = stride;
        Padding = padding;
        Dilation = dilation;
        Groups = groups;
        var w = Tensor.Zeros(outputChannels, inputChannels / groups, kernel, kernel);
        Initializers.KaimingNormal(w, fanIn: inputChannels / groups * kernel * kernel, rng ?? new Random(0));
        Weight = AddParameter("weight", w);
        if (bias) Bias = AddParameter("bias", Tensor.Zeros(outputChannels));
    }

    public int InputChannels { get; }
    public int OutputChannels { get; }
    public int Kernel { get; }
    public int Stride { get; }
    public int Padding { get; }
    public int Dilation { get; }
    public int Groups { get; }
    public Parameter Weight { get; }
    public Parameter? Bias { get; }

    public override Tensor Forward(Tape tape, Tensor input) =>
        tape.Conv2d(input, Weight.Value, Bias?.Value, Stride, Padding, Dilation, Groups);

    public override string ToString() => $"Conv2d({InputChannels}→{OutputChannels}, {Kernel}×{Kernel}, stride {Stride}, pad {Padding}{(Groups > 1 ? $", groups {Groups}" : "")})";
}
