using NanoCam.Nn.Models;

namespace NanoCam.Explain.Methods;

/// <summary>
/// The attention map of an Attention Branch Network (Fukui et al., CVPR 2019, Sec. 3.1): M(x) = σ(BN(conv1×1(class
/// maps))) ∈ (0, 1), the map the perception branch is gated by (eq. 2), read as it is (one channel of weight 1, no
/// gradient) and bilinearly upsampled to the input. It is the same for every class: the network learns one map.
/// </summary>
public sealed class AbnAttention : CamMethod
{
    public override string Name => "abn-attention";
    public override bool UsesGradients => false;
    public override bool ReadsClassScore => false;

    /// <summary>The published attention map of the network.</summary>
    public override string? DefaultLayer(IExplainable model) => HasAttentionBranch(model) ? AttentionBranchNetwork.AttentionMapLayer : null;

    public override string? WhyNotApplicable(IExplainable model, string layer) =>
        !HasAttentionBranch(model) ? "this network has no attention branch (train one with --arch abn-vgg or abn-resnet)"
        : layer != AttentionBranchNetwork.AttentionMapLayer ? $"the attention map is layer '{AttentionBranchNetwork.AttentionMapLayer}', not '{layer}'"
        : null;

    public override void ChannelWeights(CamContext context, Span<float> weights)
    {
        if (WhyNotApplicable(context.Model, context.Capture.Layer) is { } reason) throw new InvalidOperationException($"{Name}: {reason}");
        weights.Fill(1f); // M has one channel: the map is M itself
    }

    private static bool HasAttentionBranch(IExplainable model) => model is ModuleExplainable { Model: AttentionBranchNetwork };
}
