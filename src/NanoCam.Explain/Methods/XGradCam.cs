namespace NanoCam.Explain.Methods;

/// <summary>
/// XGrad-CAM (Fu et al. 2020, eq. 9): α_k^c = Σ_ij (A^k_ij / (Σ_ab A^k_ab + ε)) · ∂y^c/∂A^k_ij — the gradients averaged
/// with the activations as weights. By default ε = 1e-7, as pytorch-grad-cam (xgrad_cam.py), which damps channels whose
/// activations sum to almost 0; a channel whose activations are all 0 gets weight 0 either way. ε = 0 gives eq. 9 as
/// written, with weight 0 where Σ_ab A^k_ab = 0.
/// </summary>
public sealed class XGradCam(float epsilon = XGradCam.PyTorchGradCamEpsilon) : CamMethod
{
    /// <summary>pytorch-grad-cam's ε added to the activation sum.</summary>
    public const float PyTorchGradCamEpsilon = 1e-7f;

    public override string Name => "xgradcam";

    /// <summary>ε added to Σ_ab A^k_ab (0: eq. 9 as written).</summary>
    public float Epsilon { get; } = epsilon >= 0f ? epsilon : throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "ε must not be negative");

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
                float denominator = activationSum + Epsilon;
                weights[n * c.Channels + k] = denominator == 0f ? 0f : weighted / denominator;
            }
    }
}
