using NanoCam.Autodiff;
using NanoCam.Nn.Models;
using NanoCam.Nn.Modules;

namespace NanoCam.Explain;

/// <summary>A NanoCam GAP-CNN as an explainable classifier; its CAM head is the FC layer after global average pooling.</summary>
public sealed class ModuleExplainable(GapCnn model, IReadOnlyList<string>? classNames = null) : IExplainable, ISpatialBiases
{
    public GapCnn Model { get; } = model;

    public Tensor Scores(Tape tape, Tensor input) => Model.Call(tape, input);

    public int Classes => Model.Classes;

    public IReadOnlyList<string>? ClassNames { get; } = classNames;

    public CamHead? CamHead => new(GapCnn.FeatureLayer,
        Model.Classifier.Weight.Value.ToArray(), Model.Classes, Model.FeatureChannels, Model.Classifier.Bias?.Value.ToArray());

    public string DefaultLayer => GapCnn.FeatureLayer;

    /// <summary>Every <see cref="Conv2d"/> with a bias, in the order the model lists them.</summary>
    public IReadOnlyList<LayerBias> SpatialBiases =>
        [.. Model.Modules().OfType<Conv2d>().Where(c => c.Bias is not null).Select(c => new LayerBias(c.Path, c.Bias!.Value.ToArray()))];
}
