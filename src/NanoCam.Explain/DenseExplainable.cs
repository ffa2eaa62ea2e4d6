using NanoCam.Autodiff;
using NanoCam.Nn.Models;
using NanoCam.Nn.Modules;
using NanoCam.Nn.Training;
using NanoCam.Ops;

namespace NanoCam.Explain;

/// <summary>
/// A NanoCam network with a dense output (<see cref="SegmentationFcn"/>'s [N, K + 1, H, W] maps,
/// <see cref="GridDetector"/>'s [N, boxes, 4 + 1 + K] rows) as an explainable model: its output flattened after the batch
/// axis is the score vector, and <see cref="OutputDims"/> gives its shape back, so <c>--target segmentation:K</c> and
/// <c>--target box:…</c> read it. It has no CAM head (no GAP).
/// </summary>
public sealed class DenseExplainable : IExplainable
{
    private readonly int _height, _width;

    /// <summary>
    /// Wraps <paramref name="model"/> (a <see cref="Module"/> that is an <see cref="IDenseModel"/>) for inputs of
    /// <paramref name="height"/>×<paramref name="width"/>; <paramref name="classNames"/>, the data set's classes (a
    /// checkpoint's metadata), name the output's classes (<see cref="OutputClassNames"/>).
    /// </summary>
    public DenseExplainable(Module model, int height, int width, IReadOnlyList<string>? classNames = null)
    {
        Dense = model as IDenseModel ?? throw new ArgumentException($"{model} has no dense output");
        Model = model;
        (_height, _width) = (height, width);
        Classes = Dense.OutputDims(height, width).Aggregate(1, (p, d) => p * d);
        OutputClassNames = classNames is null ? null : Dense.OutputClassNames(classNames);
    }

    /// <summary>
    /// The names of the output's classes: a segmentation's K + 1 maps (the shapes, then background), a detector's K
    /// class scores; null when the data set's names were not given.
    /// </summary>
    public IReadOnlyList<string>? OutputClassNames { get; }

    /// <summary>The kind of output, as messages name it: "segmentation maps" or "boxes".</summary>
    private string Kind => OutputDims(0, _height, _width).Length == 3 ? "segmentation maps" : "boxes";

    /// <summary>
    /// What a dense model explains when no target is named, from one image's output <paramref name="scores"/>: a
    /// segmentation's predicted class over its predicted region (the object class with the most pixels,
    /// <see cref="DensePrediction.MaskClass"/>), a detector's most confident box (<see cref="DenseQuality.BestBox"/>)
    /// with its class.
    /// </summary>
    public CamTarget DefaultTarget(ReadOnlySpan<float> scores)
    {
        var dims = OutputDims(0, _height, _width);
        if (dims.Length == 3)
        {
            var counts = DensePrediction.PixelCounts(scores, dims[0], dims[1] * dims[2]);
            return CamTarget.Segmentation(DensePrediction.MaskClass(counts, dims[0] - 1), dims);
        }
        var (_, box, cls) = DenseQuality.BestBox(scores, dims[0], dims[1]);
        return CamTarget.Box(box.X1, box.Y1, box.X2, box.Y2, cls, dims);
    }

    /// <summary>
    /// Nothing when <paramref name="target"/> is a function of the dense output; an <see cref="ArgumentException"/>
    /// for a class target (a class index, the top prediction), which would pick one pixel or one box value.
    /// </summary>
    public void CheckTarget(CamTarget target)
    {
        if (!target.IsClassScore) return;
        var dims = OutputDims(0, _height, _width);
        string hint = dims.Length == 3 ? "CamTarget.Segmentation(k, outputDims)" : "CamTarget.Box(x1, y1, x2, y2, k, outputDims)";
        throw new ArgumentException($"this model's output is {Kind} [N, {string.Join(", ", dims)}], not class scores: explain it with {hint} (or no target: "
            + (dims.Length == 3 ? "the predicted class's region" : "the most confident box") + ")");
    }

    /// <summary>The network.</summary>
    public Module Model { get; }

    /// <summary>The network's dense-output description.</summary>
    public IDenseModel Dense { get; }

    /// <summary>The output flattened to [N, product of <see cref="OutputDims"/>].</summary>
    public Tensor Scores(Tape tape, Tensor input) => tape.Flatten(Model.Call(tape, input), 1);

    /// <summary>The number of output values per image.</summary>
    public int Classes { get; }

    /// <summary>Null: the flattened values have no class names.</summary>
    public IReadOnlyList<string>? ClassNames => null;

    /// <summary>Null: the network does not end in GAP + a linear layer.</summary>
    public CamHead? CamHead => null;

    public string DefaultLayer => Dense.DefaultLayer;

    /// <summary>[K + 1, H, W] or [boxes, 4 + 1 + K] for the model's own input size (a native checkpoint is built for one size).</summary>
    public int[] OutputDims(int channels, int height, int width) => Dense.OutputDims(height, width);
}
