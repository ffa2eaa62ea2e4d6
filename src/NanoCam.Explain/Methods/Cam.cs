namespace NanoCam.Explain.Methods;

/// <summary>
/// CAM (Zhou et al. 2016, eq. 3): M_c(x,y) = Σ_k w_k^c A^k(x,y), with w_k^c the weights of the fully connected
/// layer that follows global average pooling. Needs no gradient; the network must have a CAM head.
/// </summary>
public sealed class Cam : CamMethod
{
    public override string Name => "cam";
    public override bool UsesGradients => false;

    /// <summary>The layer the head's class weights apply to.</summary>
    public override string? DefaultLayer(IExplainable model) => model.CamHead?.FeatureLayer;

    public override string? WhyNotApplicable(IExplainable model, string layer) => model.CamHead switch
    {
        null => "this network has no global-average-pooling + linear classifier head; use gradcam",
        { FeatureLayer: var feature } when feature != layer => $"class weights apply to layer '{feature}', not '{layer}'",
        _ => null,
    };

    public override void ChannelWeights(CamContext context, Span<float> weights)
    {
        var c = context.Capture;
        if (WhyNotApplicable(context.Model, c.Layer) is { } reason) throw new InvalidOperationException($"cam: {reason}");
        var head = context.Model.CamHead!;
        if (head.Channels != c.Channels)
            throw new InvalidOperationException($"cam: the head has {head.Channels} channels but layer '{c.Layer}' has {c.Channels}");
        for (int n = 0; n < c.Batch; n++)
            for (int k = 0; k < c.Channels; k++)
                weights[n * c.Channels + k] = head.Weight(c.TargetClasses[n], k);
    }
}
