using NanoCam.Autodiff;

namespace NanoCam.Explain;

/// <summary>
/// A model that can run the part of its forward pass above one of its layers: from activations standing for that
/// layer's output to the class scores, without the layers below (Ablation-CAM changes only the layer's channels, so
/// everything under it is the same in every ablated pass).
/// </summary>
public interface IRunsAboveLayer
{
    /// <summary>
    /// The scores [B, classes] of a pass whose <paramref name="layer"/> output is <paramref name="activations"/>
    /// [B, K, h, w]: what <see cref="IExplainable.Scores"/> gives when that layer computes these values. Null when the
    /// architecture cannot say (the part above also reads a tensor from below the layer), and the caller runs whole passes.
    /// </summary>
    Tensor? ScoresAbove(Tape tape, string layer, Tensor activations);
}
