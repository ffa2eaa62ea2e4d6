using NanoCam.Autodiff;
using NanoCam.Nn.Models;
using NanoCam.Nn.Modules;

namespace NanoCam.Explain;

/// <summary>
/// A NanoCam GAP-CNN as an explainable classifier; its CAM head is the FC layer after global average pooling (for an
/// <see cref="AttentionBranchNetwork"/>, the perception branch's: its scores are the network's, and it publishes M as
/// <see cref="AttentionBranchNetwork.AttentionMapLayer"/>).
/// </summary>
public sealed class ModuleExplainable(GapCnn model, IReadOnlyList<string>? classNames = null) : IExplainable, ISpatialBiases, IRunsAboveLayer
{
    public GapCnn Model { get; } = model;

    public Tensor Scores(Tape tape, Tensor input) => Model.Call(tape, input);

    public int Classes => Model.Classes;

    public IReadOnlyList<string>? ClassNames { get; } = classNames;

    /// <summary>
    /// The classifier's current weights (and bias): one head kept and refreshed in place on each read, so that a model
    /// trained between explanations shows its new weights and a warm explanation allocates nothing for it.
    /// </summary>
    public CamHead? CamHead
    {
        get
        {
            var (weight, bias) = (Model.Classifier.Weight.Value, Model.Classifier.Bias?.Value);
            if (_camHead is null || _camHead.Weights.Length != weight.Size || (_camHead.Bias?.Length ?? -1) != (bias?.Size ?? -1))
                _camHead = new(GapCnn.FeatureLayer, new float[weight.Size], Model.Classes, Model.FeatureChannels, bias is null ? null : new float[bias.Size]);
            weight.Buffer.CopyTo(_camHead.Weights);
            if (bias is not null) bias.Buffer.CopyTo(_camHead.Bias);
            return _camHead;
        }
    }

    private CamHead? _camHead;

    public string DefaultLayer => GapCnn.FeatureLayer;

    /// <summary>
    /// Above <see cref="GapCnn.FeatureLayer"/>: GAP and the classifier; above a layer of the feature stack
    /// (<c>features.3</c>): the stack's later layers, then GAP and the classifier. Null for another layer, and for a
    /// network that is not a plain <see cref="GapCnn"/> (an attention branch network's scores read more than its features).
    /// </summary>
    public Tensor? ScoresAbove(Tape tape, string layer, Tensor activations)
    {
        if (Model.GetType() != typeof(GapCnn)) return null;
        var x = activations;
        if (layer != GapCnn.FeatureLayer)
        {
            var layers = Model.Features.Children;
            int index = -1;
            for (int i = 0; i < layers.Count; i++) if (layers[i].Module.Path == layer) index = i;
            if (index < 0) return null;
            for (int i = index + 1; i < layers.Count; i++) x = layers[i].Module.Call(tape, x);
        }
        return Model.Classifier.Call(tape, Model.Pool.Call(tape, x));
    }

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
