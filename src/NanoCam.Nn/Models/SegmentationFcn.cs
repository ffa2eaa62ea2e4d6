using NanoCam.Autodiff;
using NanoCam.Nn.Modules;
using NanoCam.Ops;

namespace NanoCam.Nn.Models;

/// <summary>
/// seg-fcn: a fully convolutional semantic segmentation network without global pooling (Long, Shelhamer and Darrell,
/// "Fully Convolutional Networks for Semantic Segmentation", CVPR 2015, in miniature): conv-BN-ReLU at full resolution,
/// 2×2 max pool, conv-BN-ReLU, 2×2 max pool, three conv-BN-ReLU at a quarter of the resolution (the last two dilated by
/// 2 and 4: a 66-px receptive field, so every pixel of a shape sees all of it and its class), a 1×1 convolution to K + 1 class maps and nearest-neighbour upsampling by 4: per-pixel
/// logits [N, K + 1, H, W], the K shape classes first (map k is class k) and background last (map K).
/// </summary>
public sealed class SegmentationFcn : Module, IDenseModel
{
    /// <summary>Name under which the quarter-resolution feature map (the default CAM layer) is published.</summary>
    public const string FeatureLayer = "features";

    /// <summary>The background map's name in <see cref="OutputClassNames"/>.</summary>
    public const string BackgroundName = "background";

    public SegmentationFcn(int inputChannels, int classes, Random rng)
    {
        Classes = classes;
        Conv2d Conv(int cin, int cout, int dilation = 1) => new(cin, cout, 3, padding: dilation, dilation: dilation, rng: rng);
        Features = AddChild(FeatureLayer, new Sequential(
            Conv(inputChannels, 16), new BatchNorm2d(16), new ReLU(), new MaxPool2d(2),
            Conv(16, 32), new BatchNorm2d(32), new ReLU(), new MaxPool2d(2),
            Conv(32, 32), new BatchNorm2d(32), new ReLU(),
            Conv(32, 32, 2), new BatchNorm2d(32), new ReLU(),
            Conv(32, 32, 4), new BatchNorm2d(32), new ReLU()));
        Head = AddChild("head", new Conv2d(32, classes + 1, 1, rng: rng));
        AssignPaths();
    }

    /// <summary>The number of object classes K (the output has K + 1 maps).</summary>
    public int Classes { get; }

    /// <summary>The index of the background map: K.</summary>
    public int Background => Classes;

    public Sequential Features { get; }
    public Conv2d Head { get; }

    public string DefaultLayer => FeatureLayer;

    /// <summary>How many input pixels one feature cell spans on each side: two 2×2 pools.</summary>
    public const int Stride = 4;

    /// <summary>Per-pixel class logits [N, K + 1, H, W].</summary>
    public override Tensor Forward(Tape tape, Tensor input) => UpsampleNearest(tape, Head.Call(tape, Features.Call(tape, input)), Stride);

    /// <summary>y[n, c, f·i + a, f·j + b] = x[n, c, i, j]: a view [N, C, h, 1, w, 1] expanded to [N, C, h, f, w, f] (backward sums each f×f block).</summary>
    public static Tensor UpsampleNearest(Tape tape, Tensor x, int factor)
    {
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        var repeated = tape.Expand(tape.Reshape(x, [n, c, h, 1, w, 1]), [n, c, h, factor, w, factor]);
        return tape.Reshape(repeated, [n, c, factor * h, factor * w]);
    }

    public int[] OutputDims(int height, int width) => [Classes + 1, height, width];

    public IReadOnlyList<string> OutputClassNames(IReadOnlyList<string> classNames) => [.. classNames, BackgroundName];

    public void CheckInputSize(int height, int width)
    {
        if (height % Stride != 0 || width % Stride != 0 || height < Stride || width < Stride)
            throw new ArgumentException($"--arch seg-fcn: the images are {height}×{width}; it pools by {Stride} and upsamples back, so both sides must be multiples of {Stride}");
    }
}
