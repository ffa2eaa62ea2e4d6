using NanoCam.Autodiff;
using NanoCam.Nn.Modules;

namespace NanoCam.Nn.Models;

/// <summary>
/// The network of the CAM paper (Zhou et al. 2016, Sec. 2): convolutional features A^k, global average pooling
/// F^k = (1/Z) Σ_{x,y} A^k(x,y), and one fully connected layer S_c = Σ_k w_k^c F^k + b_c. Its class activation map is
/// M_c(x,y) = Σ_k w_k^c A^k(x,y) with w_k^c = <see cref="Classifier"/>.Weight[c, k].
/// </summary>
public class GapCnn : Module
{
    /// <summary>Name under which the last feature map A is published on the tape.</summary>
    public const string FeatureLayer = "features";

    public GapCnn(Sequential features, int featureChannels, int classes, Random rng) : this([], features, featureChannels, classes, rng)
    {
    }

    /// <summary>For networks that run other modules before <paramref name="features"/>: <paramref name="leading"/> are listed first, in order.</summary>
    protected GapCnn(IReadOnlyList<(string Name, Module Module)> leading, Sequential features, int featureChannels, int classes, Random rng)
    {
        foreach (var (name, module) in leading) AddChild(name, module);
        Features = AddChild(FeatureLayer, features);
        Pool = AddChild("gap", new GlobalAvgPool2d());
        Classifier = AddChild("fc", new Linear(featureChannels, classes, rng: rng));
        AssignPaths();
    }

    public Sequential Features { get; }
    public GlobalAvgPool2d Pool { get; }
    public Linear Classifier { get; }
    public int Classes => Classifier.OutputFeatures;
    public int FeatureChannels => Classifier.InputFeatures;

    /// <summary>Class scores S_c (pre-softmax logits), [N, classes].</summary>
    public override Tensor Forward(Tape tape, Tensor input)
    {
        var features = Features.Call(tape, input);
        var pooled = Pool.Call(tape, features);
        return Classifier.Call(tape, pooled);
    }
}
