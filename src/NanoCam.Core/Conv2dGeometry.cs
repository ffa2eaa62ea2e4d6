namespace NanoCam;

/// <summary>
/// Sizes of one 2-D convolution over an NCHW batch. Output size per axis:
/// out = floor((in + padBegin + padEnd − dilation·(kernel − 1) − 1) / stride) + 1.
/// </summary>
public readonly record struct Conv2dGeometry(
    int Batch, int InputChannels, int InputHeight, int InputWidth,
    int OutputChannels, int KernelHeight, int KernelWidth,
    int StrideHeight = 1, int StrideWidth = 1,
    int PadTop = 0, int PadLeft = 0, int PadBottom = 0, int PadRight = 0,
    int DilationHeight = 1, int DilationWidth = 1, int Groups = 1)
{
    public int OutputHeight => (InputHeight + PadTop + PadBottom - DilationHeight * (KernelHeight - 1) - 1) / StrideHeight + 1;
    public int OutputWidth => (InputWidth + PadLeft + PadRight - DilationWidth * (KernelWidth - 1) - 1) / StrideWidth + 1;

    public int InputChannelsPerGroup => InputChannels / Groups;
    public int OutputChannelsPerGroup => OutputChannels / Groups;

    public Shape InputShape => new(Batch, InputChannels, InputHeight, InputWidth);
    public Shape WeightShape => new(OutputChannels, InputChannelsPerGroup, KernelHeight, KernelWidth);
    public Shape OutputShape => new(Batch, OutputChannels, OutputHeight, OutputWidth);

    /// <summary>Whether <paramref name="s"/> is <see cref="InputShape"/> (without building it).</summary>
    public bool IsInputShape(Shape s) => s.Rank == 4 && s[0] == Batch && s[1] == InputChannels && s[2] == InputHeight && s[3] == InputWidth;

    /// <summary>Whether <paramref name="s"/> is <see cref="WeightShape"/> (without building it).</summary>
    public bool IsWeightShape(Shape s) => s.Rank == 4 && s[0] == OutputChannels && s[1] == InputChannelsPerGroup && s[2] == KernelHeight && s[3] == KernelWidth;

    /// <summary>Whether <paramref name="s"/> is <see cref="OutputShape"/> (without building it).</summary>
    public bool IsOutputShape(Shape s) => s.Rank == 4 && s[0] == Batch && s[1] == OutputChannels && s[2] == OutputHeight && s[3] == OutputWidth;

    public int InputSize => Batch * InputChannels * InputHeight * InputWidth;
    public int WeightSize => OutputChannels * InputChannelsPerGroup * KernelHeight * KernelWidth;
    public int OutputSize => Batch * OutputChannels * OutputHeight * OutputWidth;

    /// <summary>Multiply-adds × 2 of the forward pass.</summary>
    public double Flops => 2.0 * Batch * OutputChannels * OutputHeight * OutputWidth * InputChannelsPerGroup * KernelHeight * KernelWidth;

    /// <summary>Checks every size and names the offending one.</summary>
    public void Validate()
    {
        if (Groups < 1 || InputChannels % Groups != 0 || OutputChannels % Groups != 0)
            throw new ArgumentException($"conv2d: groups={Groups} must divide input channels {InputChannels} and output channels {OutputChannels}");
        if (StrideHeight < 1 || StrideWidth < 1 || DilationHeight < 1 || DilationWidth < 1 || KernelHeight < 1 || KernelWidth < 1)
            throw new ArgumentException($"conv2d: kernel {KernelHeight}×{KernelWidth}, stride {StrideHeight}×{StrideWidth} and dilation {DilationHeight}×{DilationWidth} must be positive");
        if (PadTop < 0 || PadLeft < 0 || PadBottom < 0 || PadRight < 0)
            throw new ArgumentException("conv2d: padding must not be negative");
        if (OutputHeight < 1 || OutputWidth < 1)
            throw new ArgumentException($"conv2d: input {InputHeight}×{InputWidth} is smaller than the dilated kernel {DilationHeight * (KernelHeight - 1) + 1}×{DilationWidth * (KernelWidth - 1) + 1}");
    }

    /// <summary>Geometry for an input of shape [N, C, H, W] and a weight of shape [K, C/groups, R, S].</summary>
    public static Conv2dGeometry For(Shape input, Shape weight, int stride = 1, int padding = 0, int dilation = 1, int groups = 1) =>
        For(input, weight, (stride, stride), (padding, padding, padding, padding), (dilation, dilation), groups);

    public static Conv2dGeometry For(Shape input, Shape weight, (int H, int W) stride, (int Top, int Left, int Bottom, int Right) pads, (int H, int W) dilation, int groups)
    {
        if (input.Rank != 4) throw new ArgumentException($"conv2d: input must be [N, C, H, W], got {input}");
        if (weight.Rank != 4) throw new ArgumentException($"conv2d: weight must be [K, C/groups, R, S], got {weight}");
        if (weight[1] * groups != input[1])
            throw new ArgumentException($"conv2d: input {input} has {input[1]} channels but weight {weight} with groups={groups} expects {weight[1] * groups}");
        var g = new Conv2dGeometry(input[0], input[1], input[2], input[3], weight[0], weight[2], weight[3],
            stride.H, stride.W, pads.Top, pads.Left, pads.Bottom, pads.Right, dilation.H, dilation.W, groups);
        g.Validate();
        return g;
    }
}
