namespace NanoCam.Explain.Methods;

/// <summary>
/// Grad-CAM++ (Chattopadhay et al. 2018). With Y^c = exp(S^c) the higher derivatives of Y reduce to powers of the
/// first derivative of S (Sec. 3.2, eq. 17–19), and the exp(S^c) factors cancel in α:
/// α_ij^kc = (∂S^c/∂A^k_ij)² / (2(∂S^c/∂A^k_ij)² + Σ_ab A^k_ab (∂S^c/∂A^k_ij)³ + ε)  (eq. 19, plus ε),
/// w_k^c = Σ_ij α_ij^kc · ReLU(∂S^c/∂A^k_ij)  (eq. 7; the common factor exp(S^c) is dropped, as pytorch-grad-cam does).
/// By default ε = 1e-6, as pytorch-grad-cam (grad_cam_plusplus.py): α then fades to 0 where the squared gradient is
/// small beside ε, instead of tending to ½ (eq. 19 when g → 0). ε = 0 gives the paper's α, with α = 0 where the
/// denominator is 0 (where the gradient is 0). docs/pytorch-grad-cam-parity.md shows the difference.
/// </summary>
public sealed class GradCamPlusPlus(float epsilon = GradCamPlusPlus.PyTorchGradCamEpsilon) : CamMethod
{
    /// <summary>pytorch-grad-cam's ε in the denominator of α.</summary>
    public const float PyTorchGradCamEpsilon = 1e-6f;

    public override string Name => "gradcam++";

    /// <summary>ε added to the denominator of α (0: the paper's eq. 19).</summary>
    public float Epsilon { get; } = epsilon >= 0f ? epsilon : throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "ε must not be negative");

    public override void ChannelWeights(CamContext context, Span<float> weights)
    {
        var c = context.Capture;
        var squares = context.Scratch(0, c.Plane);
        var cubes = context.Scratch(1, c.Plane);
        for (int n = 0; n < c.Batch; n++)
            for (int k = 0; k < c.Channels; k++)
            {
                var gradients = c.GradientPlane(n, k);
                for (int p = 0; p < c.Plane; p++)
                {
                    squares[p] = gradients[p] * gradients[p];
                    cubes[p] = squares[p] * gradients[p];
                }
                weights[n * c.Channels + k] = Weight(c.ActivationPlane(n, k), gradients, squares, cubes, Epsilon);
            }
    }

    /// <summary>
    /// w_k = Σ_ij α_ij · ReLU(g_ij) with α_ij = g²_ij / (2 g²_ij + Σ_ab A_ab · g³_ij + ε) (eq. 19, 7), from the gradient
    /// statistics of one channel: g, g², g³ (powers of one gradient, or their means over noisy copies for Smooth Grad-CAM++).
    /// A zero denominator (ε = 0 and g = 0) gives α = 0.
    /// </summary>
    public static float Weight(ReadOnlySpan<float> activations, ReadOnlySpan<float> gradients, ReadOnlySpan<float> squares, ReadOnlySpan<float> cubes, float epsilon)
    {
        float activationSum = 0f;
        foreach (var a in activations) activationSum += a;
        float weight = 0f;
        for (int p = 0; p < gradients.Length; p++)
        {
            float denominator = 2f * squares[p] + activationSum * cubes[p] + epsilon;
            if (denominator == 0f) continue;
            float alpha = squares[p] / denominator;
            weight += alpha * MathF.Max(gradients[p], 0f);
        }
        return weight;
    }
}
