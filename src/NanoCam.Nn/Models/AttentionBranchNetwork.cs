using NanoCam.Autodiff;
using NanoCam.Nn.Modules;
using NanoCam.Ops;

namespace NanoCam.Nn.Models;

/// <summary>
/// The Attention Branch Network (Fukui et al., CVPR 2019): a feature extractor g(x); an attention branch that turns g
/// into K class maps (their GAP is the attention branch's class scores) and one attention map M(x) ∈ (0, 1); and a
/// perception branch that classifies from g'(x) = (1 + M(x))·g(x) (eq. 2). Its class scores (<see cref="Module.Forward"/>)
/// are the perception branch's, which ends in GAP + one linear layer like every <see cref="GapCnn"/>, so CAM reads the
/// perception branch's <see cref="GapCnn.FeatureLayer"/>. Training minimizes L = L_att + L_per (eq. 1).
/// </summary>
public sealed class AttentionBranchNetwork : GapCnn
{
    /// <summary>Name under which the feature extractor's output g(x) is published.</summary>
    public const string ExtractorLayer = "extractor";

    /// <summary>Name under which the attention map M(x) [N, 1, h, w] is published.</summary>
    public const string AttentionMapLayer = "attention.map";

    /// <summary>Name under which the attention branch's K class maps [N, K, h, w] are published.</summary>
    public const string ClassMapsLayer = "attention.class_maps";

    /// <summary>Name under which g'(x) = (1 + M(x))·g(x) is published.</summary>
    public const string GatedLayer = "gated";

    public AttentionBranchNetwork(Sequential extractor, AttentionBranch attention, Sequential perception, int perceptionChannels, int classes, Random rng)
        : base([(ExtractorLayer, extractor), ("attention", attention)], perception, perceptionChannels, classes, rng)
    {
        Extractor = extractor;
        Attention = attention;
    }

    /// <summary>The feature extractor g.</summary>
    public Sequential Extractor { get; }

    /// <summary>The attention branch: class maps, their GAP scores, and M.</summary>
    public AttentionBranch Attention { get; }

    /// <summary>The perception branch's class scores [N, classes] (the network's output).</summary>
    public override Tensor Forward(Tape tape, Tensor input) => Branches(tape, input).PerceptionScores;

    /// <summary>One forward pass through both branches: what training needs (both scores) and what explanations read (M).</summary>
    public AttentionBranchOutputs Branches(Tape tape, Tensor input)
    {
        var features = Extractor.Call(tape, input);
        var (attentionScores, map) = Attention.Run(tape, features);
        var gated = tape.Publish(Gate(tape, features, map), GatedLayer);
        var perceived = Features.Call(tape, gated);
        var pooled = Pool.Call(tape, perceived);
        return new AttentionBranchOutputs(attentionScores, Classifier.Call(tape, pooled), map);
    }

    /// <summary>The attention mechanism, eq. 2: g'_c(x) = (1 + M(x))·g_c(x), M [N, 1, h, w] broadcast over the channels c of g [N, C, h, w].</summary>
    public static Tensor Gate(Tape tape, Tensor features, Tensor map) => tape.Add(features, tape.Mul(map, features));
}

/// <summary>What one pass of an <see cref="AttentionBranchNetwork"/> gives: both branches' class scores and the attention map M.</summary>
public sealed record AttentionBranchOutputs(Tensor AttentionScores, Tensor PerceptionScores, Tensor Map);

/// <summary>
/// The attention branch of an ABN: convolutions over g(x), a 1×1 convolution to K class maps whose global average
/// pooling gives the K attention scores (trained by L_att), and a 1×1 convolution of the rectified class maps to one
/// channel, batch-normalized and squashed by a sigmoid into the attention map M(x) (Fukui et al., Sec. 3.1).
/// </summary>
public sealed class AttentionBranch : Module
{
    public AttentionBranch(Sequential convs, int convChannels, int classes, Random rng)
    {
        Convs = AddChild("convs", convs);
        ClassMaps = AddChild("class_maps", new Conv2d(convChannels, classes, 1, rng: rng));
        Pool = AddChild("gap", new GlobalAvgPool2d());
        MapConv = AddChild("map_conv", new Conv2d(classes, 1, 1, rng: rng));
        MapNorm = AddChild("map_norm", new BatchNorm2d(1));
    }

    public Sequential Convs { get; }
    public Conv2d ClassMaps { get; }
    public GlobalAvgPool2d Pool { get; }
    public Conv2d MapConv { get; }
    public BatchNorm2d MapNorm { get; }

    /// <summary>The attention map M(x) [N, 1, h, w] of features g(x) [N, C, h, w].</summary>
    public override Tensor Forward(Tape tape, Tensor input) => Run(tape, input).Map;

    /// <summary>The attention branch's class scores [N, K] (GAP of the class maps) and M(x) [N, 1, h, w] = σ(BN(conv1×1(ReLU(class maps)))).</summary>
    public (Tensor Scores, Tensor Map) Run(Tape tape, Tensor features)
    {
        var classMaps = ClassMaps.Call(tape, Convs.Call(tape, features));
        var scores = Pool.Call(tape, classMaps);
        var normalized = MapNorm.Call(tape, MapConv.Call(tape, tape.Relu(classMaps)));
        return (scores, tape.Publish(tape.Sigmoid(normalized), AttentionBranchNetwork.AttentionMapLayer));
    }
}
