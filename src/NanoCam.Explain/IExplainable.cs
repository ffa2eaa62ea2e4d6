using NanoCam.Autodiff;

namespace NanoCam.Explain;

/// <summary>
/// A classifier that explanation methods can run: it records its forward pass on a tape, publishing every
/// intermediate under a name (the candidate target layers), and returns the class scores y^c before any softmax.
/// </summary>
public interface IExplainable
{
    /// <summary>Class scores [N, classes], pre-softmax (Grad-CAM differentiates y^c, not the probability).</summary>
    Tensor Scores(Tape tape, Tensor input);

    /// <summary>Number of classes.</summary>
    int Classes { get; }

    /// <summary>Class names, or null when unknown.</summary>
    IReadOnlyList<string>? ClassNames { get; }

    /// <summary>The CAM head when the network ends in GAP + a linear classifier; null when it does not.</summary>
    CamHead? CamHead { get; }

    /// <summary>The default target layer: the last named tensor with a spatial (H×W) output.</summary>
    string DefaultLayer { get; }

    /// <summary>
    /// The most images one pass takes (any number by default). A model imported with a fixed batch whose graph ties
    /// dimension 0 to it says 1, and the explainer then runs its images one at a time.
    /// </summary>
    int MaxBatch => int.MaxValue;

    /// <summary>
    /// The most images a no-grad pass of perturbed inputs (Score-CAM's masked images, Ablation-CAM's ablated copies)
    /// should take, whatever batch the method asks for: any by default. A model whose passes gain nothing from a batch
    /// says 1, and its perturbed passes then run one image at a time, on the same reused tape and input.
    /// </summary>
    int PerturbationBatch => int.MaxValue;

    /// <summary>
    /// The tensor whose values stand for the activations A^k of <paramref name="layer"/> (the gradient is always the
    /// layer's own): the layer itself by default. An imported PyTorch model says the ReLU after it when that ReLU is the
    /// layer's only reader, as PyTorch's in-place ReLU overwrites the tensor pytorch-grad-cam captured.
    /// </summary>
    string ActivationsOf(string layer) => layer;

    /// <summary>
    /// One image's output shape for an input [1, <paramref name="channels"/>, <paramref name="height"/>,
    /// <paramref name="width"/>], after the batch axis ([classes] for a classifier, [K, H, W] for a segmentation network,
    /// [boxes, 5 + classes] for a detector): <see cref="Scores"/> flattens it to <see cref="Classes"/> values.
    /// </summary>
    int[] OutputDims(int channels, int height, int width) => [Classes];

    /// <summary>The tensor name a user's layer name refers to (an imported model also takes PyTorch module paths); the name itself by default.</summary>
    string ResolveLayer(string layer) => layer;
}

/// <summary>
/// Where CAM reads its class weights: the feature layer A (published name) and w [classes, channels] such that
/// y^c = Σ_k w_k^c · GAP(A^k) + b_c (CAM paper, eq. 1–2).
/// </summary>
public sealed record CamHead(string FeatureLayer, float[] Weights, int Classes, int Channels, float[]? Bias)
{
    public float Weight(int cls, int channel) => Weights[cls * Channels + channel];
}
