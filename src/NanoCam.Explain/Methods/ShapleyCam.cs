namespace NanoCam.Explain.Methods;

/// <summary>
/// ShapleyCAM (Cai 2025, arXiv 2501.06261): the closed form of the second-order Taylor estimate of the Shapley value of each
/// activation, w_k^c = (1/Z) Σ_ij (∂y^c/∂A − ½·H·A)^k_ij with H = ∂²y^c/∂A², then L = ReLU(Σ_k w_k^c A^k) as Grad-CAM.
/// The tape has no second-order differentiation, so the Hessian-vector product H·A is a central difference of gradients
/// along A itself: H·A ≈ (∇y^c(A + h·A) − ∇y^c(A − h·A)) / 2h, two more forward and backward passes with the layer's
/// output moved by ±h·A (<see cref="CamExplainer.CaptureMoved"/>), each explained for the class the first pass found.
/// Where y^c is piecewise linear in A (logits after ReLU and max-pooling layers) H·A is zero almost everywhere and
/// ShapleyCAM is Grad-CAM; a smooth score (a softmax, pytorch-grad-cam's ReST) makes the second term count.
/// </summary>
public sealed class ShapleyCam(float step = 1e-3f) : CamMethod
{
    public override string Name => "shapleycam";

    /// <summary>h, the relative step of the finite difference: A moves to (1 ± h)·A.</summary>
    public float Step { get; } = float.IsFinite(step) && step > 0 && step < 1 ? step
        : throw new ArgumentOutOfRangeException(nameof(step), step, "the step must lie in (0, 1)");

    public override void ChannelWeights(CamContext context, Span<float> weights)
    {
        var c = context.Capture;
        var product = HessianTimesActivations(context);
        for (int n = 0; n < c.Batch; n++)
            for (int k = 0; k < c.Channels; k++)
            {
                // w_k^c = (1/Z) Σ_ij (∂y^c/∂A^k_ij − ½ (H·A)^k_ij)  (ShapleyCAM's closed form)
                var g = c.GradientPlane(n, k);
                var h = product.AsSpan((n * c.Channels + k) * c.Plane, c.Plane);
                double sum = 0;
                for (int p = 0; p < g.Length; p++) sum += g[p] - 0.5 * h[p];
                weights[n * c.Channels + k] = (float)(sum / c.Plane);
            }
    }

    /// <summary>H·A [N, K, h, w] by the central difference of the gradients at (1 ± h)·A.</summary>
    public float[] HessianTimesActivations(CamContext context)
    {
        var c = context.Capture;
        var pinned = new PinnedTarget(context.Target, c.TargetClasses);
        var forward = context.Explainer.CaptureMoved(context.Input, c.Layer, pinned, c.Activations, Step, GradientSign);
        var backward = context.Explainer.CaptureMoved(context.Input, c.Layer, pinned, c.Activations, -Step, GradientSign);
        var product = new float[c.Activations.Length];
        for (int i = 0; i < product.Length; i++) product[i] = (forward.Gradients![i] - backward.Gradients![i]) / (2 * Step);
        return product;
    }
}
