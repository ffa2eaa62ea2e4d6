namespace NanoCam.Explain.Methods;

/// <summary>
/// Base of the methods that weigh every position rather than every channel: map_ij = Σ_k f(A^k_ij, ∂y^c/∂A^k_ij).
/// A subclass gives f; there are no channel weights.
/// </summary>
public abstract class PerPositionCam : CamMethod
{
    public override bool HasChannelWeights => false;

    public override void ChannelWeights(CamContext context, Span<float> weights) => weights.Clear();

    /// <summary>The contribution of one channel at one position, from its activation and gradient there.</summary>
    protected abstract float Term(float activation, float gradient);

    public override void Combine(CamContext context, int n, ReadOnlySpan<float> weights, Span<float> map)
    {
        var c = context.Capture;
        map.Clear();
        for (int k = 0; k < c.Channels; k++)
        {
            var activations = c.ActivationPlane(n, k);
            var gradients = c.GradientPlane(n, k);
            for (int p = 0; p < map.Length; p++) map[p] += Term(activations[p], gradients[p]);
        }
    }
}

/// <summary>
/// HiResCAM (Draelos &amp; Carin 2020, eq. 6): map_ij = Σ_k ∂y^c/∂A^k_ij · A^k_ij — the gradient multiplied element-wise
/// instead of averaged first. Right before GAP + FC the gradient is w_k^c/Z everywhere, so HiResCAM = Grad-CAM = CAM/Z.
/// </summary>
public sealed class HiResCam : PerPositionCam
{
    public override string Name => "hirescam";
    protected override float Term(float activation, float gradient) => gradient * activation;
}

/// <summary>
/// Element-wise Grad-CAM (as in pytorch-grad-cam's GradCAMElementWise): map_ij = Σ_k ReLU(∂y^c/∂A^k_ij · A^k_ij) —
/// HiResCAM with the ReLU moved inside the channel sum.
/// </summary>
public sealed class GradCamElementwise : PerPositionCam
{
    public override string Name => "gradcam-elementwise";
    protected override float Term(float activation, float gradient) => MathF.Max(gradient * activation, 0f);
}
