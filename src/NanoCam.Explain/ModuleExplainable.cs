using NanoCam.Autodiff;
using NanoCam.Nn.Models;
using NanoCam.Nn.Modules;

namespace NanoCam.Explain;

/// <summary>
/// A NanoCam GAP-CNN as an explainable classifier; its CAM head is the FC layer after global average pooling (for an
/// <see cref="AttentionBranchNetwork"/>, the perception branch's: its scores are the network's, and it publishes M as
/// <see cref="AttentionBranchNetwork.AttentionMapLayer"/>).
/// </summary>
public sealed class ModuleExplainable(GapCnn model, IReadOnlyList<string>? classNames = null) : IExplainable, ISpatialBiases
{
    public GapCnn Model { get; } = model;

    public Tensor Scores(Tape tape, Tensor input) => Model.Call(tape, input);

    public int Classes => Model.Classes;

    public IReadOnlyList<string>? ClassNames { get; } = classNames;

    public CamHead? CamHead => new(GapCnn.FeatureLayer,
        Model.Classifier.Weight.Value.ToArray(), Model.Classes, Model.FeatureChannels, Model.Classifier.Bias?.Value.ToArray());

    public string DefaultLayer => GapCnn.FeatureLayer;

    /// <summary>
    /// Every <see cref="Conv2d"/> with a bias and every <see cref="BatchNorm2d"/> (its bias β − μ·γ/√(σ² + ε)), in the
    /// order the model lists them.
    /// </summary>
    public IReadOnlyList<LayerBias> SpatialBiases => [.. Model.Modules().Select(BiasOf).OfType<LayerBias>()];

    private static LayerBias? BiasOf(Module module)
    {
        switch (module)
        {
            case Conv2d { Bias: not null } conv:
                return new LayerBias(conv.Path, conv.Bias.Value.ToArray());
            case BatchNorm2d norm:
                var (gamma, beta) = (norm.Weight.Value.ToArray(), norm.Bias.Value.ToArray());
                var (mean, variance) = (norm.RunningMean.Value.ToArray(), norm.RunningVar.Value.ToArray());
                var bias = new float[norm.Channels];
                for (int k = 0; k < bias.Length; k++) bias[k] = beta[k] - mean[k] * gamma[k] / MathF.Sqrt(variance[k] + norm.Epsilon);
                return new LayerBias(norm.Path, bias);
            default:
                return null;
        }
    }
}
