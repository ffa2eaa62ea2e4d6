using NanoCam.Autodiff;
using NanoCam.Ops;

namespace NanoCam.Nn.Modules;

/// <summary>
/// ResNet basic block (He et al. 2016): y = ReLU(BN(conv3×3(ReLU(BN(conv3×3(x))))) + shortcut(x)), the shortcut a
/// 1×1 convolution + BN when the stride or channel count changes, else the identity. The input is used twice,
/// so its gradient is the sum of both paths.
/// </summary>
public sealed class ResidualBlock : Module
{
    public ResidualBlock(int inputChannels, int outputChannels, int stride = 1, Random? rng = null)
    {
        rng ??= new Random(0);
        Conv1 = AddChild("conv1", new Conv2d(inputChannels, outputChannels, 3, stride, 1, bias: false, rng: rng));
        Bn1 = AddChild("bn1", new BatchNorm2d(outputChannels));
        Conv2 = AddChild("conv2", new Conv2d(outputChannels, outputChannels, 3, 1, 1, bias: false, rng: rng));
        Bn2 = AddChild("bn2", new BatchNorm2d(outputChannels));
        if (stride != 1 || inputChannels != outputChannels)
            Shortcut = AddChild("shortcut", new Sequential(new Conv2d(inputChannels, outputChannels, 1, stride, bias: false, rng: rng), new BatchNorm2d(outputChannels)));
    }

    public Conv2d Conv1 { get; }
    public BatchNorm2d Bn1 { get; }
    public Conv2d Conv2 { get; }
    public BatchNorm2d Bn2 { get; }
    public Sequential? Shortcut { get; }

    public override Tensor Forward(Tape tape, Tensor input)
    {
        var h = tape.Relu(Bn1.Call(tape, Conv1.Call(tape, input)));
        h = Bn2.Call(tape, Conv2.Call(tape, h));
        var skip = Shortcut is null ? input : Shortcut.Call(tape, input);
        return tape.Relu(tape.Add(h, skip));
    }
}
