namespace NanoCam.Explain.Methods;

/// <summary>
/// ShapleyCAM (Cai 2025, arXiv 2501.06261): the closed form of the second-order Taylor estimate of the Shapley value of each
/// activation, w_k^c = (1/Z) Σ_ij (∂y^c/∂A − ½·H·A)^k_ij with H = ∂²y^c/∂A², then L = ReLU(Σ_k w_k^c A^k) as Grad-CAM.
/// The tape has no second-order differentiation, so the Hessian-vector product H·A is a central difference of gradients
/// along A itself: H·A ≈ (∇y^c(A + h·A) − ∇y^c(A − h·A)) / 2h, two more forward and backward passes with the layer's
/// output moved by ±h·A (<see cref="CamExplainer.CaptureMoved"/>), each explained for the class the first pass found.
/// Where y^c is piecewise linear in A (logits after ReLU and max-pooling layers) H·A is zero almost everywhere and
/// ShapleyCAM is Grad-CAM; a smooth score makes the second term count: the paper's ReST utility
/// (<see cref="ResidualSoftmax"/>), or any score given as a target.
/// </summary>
public sealed class ShapleyCam(float step = 1e-3f, bool residualSoftmax = false) : CamMethod
{
    public override string Name => "shapleycam";

    /// <summary>
    /// Whether the score is the paper's Residual Softmax Target-class utility, ReST = y^c + log p_c (pytorch-grad-cam's
    /// ClassifierOutputReST: y^c minus the cross-entropy), rather than the caller's target score (the logit by default,
    /// as pytorch-grad-cam's ShapleyCAM without targets). Its gradient with respect to the scores is 2e_c − p.
    /// </summary>
    public bool ResidualSoftmax { get; } = residualSoftmax;

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

    public override LayerCapture Capture(CamExplainer explainer, Tensor input, string layer, CamTarget target) =>
        explainer.Capture(input, layer, ScoreOf(target), withGradients: true, GradientSign);

    /// <summary>The score differentiated: the caller's target, or ReST for its class.</summary>
    private CamTarget ScoreOf(CamTarget target) => ResidualSoftmax ? new ResidualSoftmaxTarget(target) : target;

    /// <summary>H·A [N, K, h, w] by the central difference of the gradients at (1 ± h)·A.</summary>
    public float[] HessianTimesActivations(CamContext context)
    {
        var c = context.Capture;
        // The moved passes keep the first pass's classes (a top prediction is not re-ranked on moved scores).
        var pinned = ScoreOf(new PinnedTarget(context.Target, c.TargetClasses));
        var forward = context.Explainer.CaptureMoved(context.Input, c.Layer, pinned, c.Activations, Step, GradientSign);
        var backward = context.Explainer.CaptureMoved(context.Input, c.Layer, pinned, c.Activations, -Step, GradientSign);
        var product = new float[c.Activations.Length];
        for (int i = 0; i < product.Length; i++) product[i] = (forward.Gradients![i] - backward.Gradients![i]) / (2 * Step);
        return product;
    }
}

/// <summary>
/// The Residual Softmax Target-class score of ShapleyCAM (Cai 2025): ReST = y^c + log softmax(y)_c for the class
/// <paramref name="Inner"/> picks, with gradient ∂ReST/∂y^m = 2·δ_mc − p_m.
/// </summary>
public sealed record ResidualSoftmaxTarget(CamTarget Inner) : CamTarget
{
    public override int ClassFor(int image, ReadOnlySpan<float> scores) => Inner.ClassFor(image, scores);

    public override void Seed(int image, ReadOnlySpan<float> scores, Span<float> seed)
    {
        MapOps.Softmax(scores, seed);
        for (int m = 0; m < seed.Length; m++) seed[m] = -seed[m];
        seed[ClassFor(image, scores)] += 2f;
    }
}
