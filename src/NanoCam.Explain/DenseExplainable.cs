using NanoCam.Autodiff;
using NanoCam.Nn.Models;
using NanoCam.Nn.Modules;
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

    /// <summary>Wraps <paramref name="model"/> (a <see cref="Module"/> that is an <see cref="IDenseModel"/>) for inputs of <paramref name="height"/>×<paramref name="width"/>.</summary>
    public DenseExplainable(Module model, int height, int width)
    {
        Dense = model as IDenseModel ?? throw new ArgumentException($"{model} has no dense output");
        Model = model;
        (_height, _width) = (height, width);
        Classes = Dense.OutputDims(height, width).Aggregate(1, (p, d) => p * d);
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
