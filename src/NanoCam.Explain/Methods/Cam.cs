namespace NanoCam.Explain.Methods;

/// <summary>
/// CAM (Zhou et al. 2016, eq. 3): M_c(x,y) = Σ_k w_k^c A^k(x,y), with w_k^c the weights of the fully connected
/// layer that follows global average pooling. Needs no gradient; the network must have a CAM head.
/// </summary>
public sealed class Cam : CamMethod
{
    public override string Name => "cam";
    public override bool UsesGradients => false;

    public override void ChannelWeights(CamContext context, Span<float> weights)
    {
        var c = context.Capture;
        var head = context.Model.CamHead
            ?? throw new InvalidOperationException("cam: this network has no global-average-pooling + linear classifier head; use gradcam");
        if (head.FeatureLayer != c.Layer)
            throw new InvalidOperationException($"cam: class weights apply to layer '{head.FeatureLayer}', not '{c.Layer}'");
        if (head.Channels != c.Channels)
            throw new InvalidOperationException($"cam: the head has {head.Channels} channels but layer '{c.Layer}' has {c.Channels}");
        for (int n = 0; n < c.Batch; n++)
            for (int k = 0; k < c.Channels; k++)
                weights[n * c.Channels + k] = head.Weight(c.TargetClasses[n], k);
    }
}
