namespace NanoCam.Explain.Methods;

/// <summary>
/// Grad-CAM (Selvaraju et al. 2017, eq. 1–2): α_k^c = (1/Z) Σ_ij ∂y^c/∂A^k_ij, L^c = ReLU(Σ_k α_k^c A^k).
/// </summary>
public class GradCam : CamMethod
{
    public override string Name => "gradcam";

    public override void ChannelWeights(CamContext context, Span<float> weights)
    {
        var c = context.Capture;
        for (int n = 0; n < c.Batch; n++)
            for (int k = 0; k < c.Channels; k++)
            {
                // α_k^c = (1/Z) Σ_ij ∂y^c/∂A^k_ij  (Grad-CAM eq. 1)
                float sum = 0f;
                foreach (var g in c.GradientPlane(n, k)) sum += g;
                weights[n * c.Channels + k] = sum / c.Plane;
            }
    }
}

/// <summary>
/// Counterfactual Grad-CAM (Selvaraju et al. 2017, Sec. 5.2): Grad-CAM of −y^c, α_k^c = (1/Z) Σ_ij −∂y^c/∂A^k_ij —
/// the regions whose removal would make the network more confident in class c.
/// </summary>
public sealed class CounterfactualGradCam : GradCam
{
    public override string Name => "counterfactual-gradcam";
    public override float GradientSign => -1f;
}
