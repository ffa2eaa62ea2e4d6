namespace NanoCam.Explain.Methods;

/// <summary>
/// XGrad-CAM (Fu et al. 2020, eq. 9): α_k^c = Σ_ij (A^k_ij / Σ_ab A^k_ab) · ∂y^c/∂A^k_ij — the gradients averaged
/// with the activations as weights. A channel whose activations sum to 0 gets weight 0.
/// </summary>
public sealed class XGradCam : CamMethod
{
    public override string Name => "xgradcam";

    public override void ChannelWeights(CamContext context, Span<float> weights)
    {
        var c = context.Capture;
        for (int n = 0; n < c.Batch; n++)
            for (int k = 0; k < c.Channels; k++)
            {
                var activations = c.ActivationPlane(n, k);
                var gradients = c.GradientPlane(n, k);
                float activationSum = 0f, weighted = 0f;
                for (int p = 0; p < c.Plane; p++)
                {
                    activationSum += activations[p];
                    weighted += activations[p] * gradients[p];
                }
                weights[n * c.Channels + k] = activationSum == 0f ? 0f : weighted / activationSum;
            }
    }
}
