namespace NanoCam.Explain;

/// <summary>
/// A CAM-family method. The shared part — capture at the layer, weighting, ReLU, upsampling, normalization,
/// batching — lives in <see cref="CamExplainer"/>; a method only says how to weigh the channels
/// (and, for per-position methods, how to combine them).
/// </summary>
public abstract class CamMethod
{
    /// <summary>The name used on the command line ("gradcam", "gradcam++", …).</summary>
    public abstract string Name { get; }

    /// <summary>Whether the method reads ∂y^c/∂A (false for CAM, Eigen-CAM, Score-CAM, …: no backward pass is run).</summary>
    public virtual bool UsesGradients => true;

    /// <summary>
    /// Whether the method reads the class score y^c itself (CAM's class weights, Score-CAM's masked scores,
    /// Ablation-CAM's drops) rather than only the gradient the target seeds: such a method explains class-score targets
    /// only (<see cref="CamTarget.IsClassScore"/>). Class-agnostic methods (Eigen-CAM, RandomCAM) say false.
    /// </summary>
    public virtual bool ReadsClassScore => !UsesGradients;

    /// <summary>+1, or −1 for counterfactual explanations (the gradients of −y^c).</summary>
    public virtual float GradientSign => 1f;

    /// <summary>Whether the combined map goes through ReLU (Grad-CAM eq. 2); Eigen-CAM-like projections may opt out.</summary>
    public virtual bool AppliesRelu => true;

    /// <summary>
    /// The pass that feeds the method: by default one forward (+ backward) pass capturing <paramref name="layer"/>.
    /// Methods that read somewhere else (FullGrad reads the input and every convolution output) override it.
    /// </summary>
    public virtual LayerCapture Capture(CamExplainer explainer, Tensor input, string layer, CamTarget target) =>
        explainer.Capture(input, layer, target, UsesGradients, GradientSign);

    /// <summary>
    /// Whether the method reads the default capture (it does not override <see cref="Capture"/>), so that methods of the
    /// same <see cref="GradientSign"/> can share one pass (see <see cref="CamExplainer.Explain(CamMethod, Tensor, LayerCapture, CamTarget, ExplainOptions?)"/>).
    /// </summary>
    public bool ReadsLayerCapture => GetType().GetMethod(nameof(Capture), [typeof(CamExplainer), typeof(Tensor), typeof(string), typeof(CamTarget)])!.DeclaringType == typeof(CamMethod);

    /// <summary>Fills weights [N, K]: the coefficient of A^k for each image (w_k^c, α_k^c, …).</summary>
    public abstract void ChannelWeights(CamContext context, Span<float> weights);

    /// <summary>Combines the channels of image n into map [h, w]; default Σ_k weights[k]·A^k (CAM eq. 3, Grad-CAM eq. 2).</summary>
    public virtual void Combine(CamContext context, int n, ReadOnlySpan<float> weights, Span<float> map) =>
        MapOps.WeightedSum(context.Capture, n, weights, map);

    /// <summary>
    /// The layer the method explains when the caller names none, or null for the model's default layer (CAM: the layer
    /// its class weights apply to, which need not be the last spatial one — SqueezeNet's conv10 comes after it).
    /// </summary>
    public virtual string? DefaultLayer(IExplainable model) => null;

    /// <summary>
    /// Why the method cannot explain <paramref name="layer"/> of <paramref name="model"/> (one phrase, without the method's
    /// name), or null when it can (CAM needs a GAP + linear head whose features are that layer). Known from the model alone,
    /// so a caller running several methods can skip one before any pass; run anyway, the method refuses with the same reason.
    /// </summary>
    public virtual string? WhyNotApplicable(IExplainable model, string layer) => null;

    /// <summary>Whether <see cref="ChannelWeights"/> is meaningful (false for methods that weigh every position).</summary>
    public virtual bool HasChannelWeights => true;

    public override string ToString() => Name;
}
