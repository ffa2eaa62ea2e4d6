namespace NanoCam.Explain.Methods;

/// <summary>
/// Grad-CAM++ (Chattopadhay et al. 2018). With Y^c = exp(S^c) the higher derivatives of Y reduce to powers of the
/// first derivative of S (Sec. 3.2, eq. 17–19), and the exp(S^c) factors cancel in α:
/// α_ij^kc = (∂S^c/∂A^k_ij)² / (2(∂S^c/∂A^k_ij)² + Σ_ab A^k_ab (∂S^c/∂A^k_ij)³)  (eq. 19),
/// w_k^c = Σ_ij α_ij^kc · ReLU(∂S^c/∂A^k_ij)  (eq. 7; the common factor exp(S^c) is dropped, as pytorch-grad-cam does).
/// α is 0 where its denominator is 0 (where the gradient is 0).
/// </summary>
public sealed class GradCamPlusPlus : CamMethod
{
    public override string Name => "gradcam++";

    public override void ChannelWeights(CamContext context, Span<float> weights)
    {
        var c = context.Capture;
        var squares = new float[c.Plane];
        var cubes = new float[c.Plane];
        for (int n = 0; n < c.Batch; n++)
            for (int k = 0; k < c.Channels; k++)
            {
                var gradients = c.GradientPlane(n, k);
                for (int p = 0; p < c.Plane; p++)
                {
                    squares[p] = gradients[p] * gradients[p];
                    cubes[p] = squares[p] * gradients[p];
                }
                weights[n * c.Channels + k] = Weight(c.ActivationPlane(n, k), gradients, squares, cubes);
            }
    }

    /// <summary>
    /// w_k = Σ_ij α_ij · ReLU(g_ij) with α_ij = g²_ij / (2 g²_ij + Σ_ab A_ab · g³_ij) (eq. 19, 7), from the gradient
    /// statistics of one channel: g, g², g³ (powers of one gradient, or their means over noisy copies for Smooth Grad-CAM++).
    /// </summary>
    public static float Weight(ReadOnlySpan<float> activations, ReadOnlySpan<float> gradients, ReadOnlySpan<float> squares, ReadOnlySpan<float> cubes)
    {
        float activationSum = 0f;
        foreach (var a in activations) activationSum += a;
        float weight = 0f;
        for (int p = 0; p < gradients.Length; p++)
        {
            float denominator = 2f * squares[p] + activationSum * cubes[p];
            if (denominator == 0f) continue;
            float alpha = squares[p] / denominator;
            weight += alpha * MathF.Max(gradients[p], 0f);
        }
        return weight;
    }
}
