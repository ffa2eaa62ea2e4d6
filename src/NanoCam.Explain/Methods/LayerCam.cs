namespace NanoCam.Explain.Methods;

/// <summary>
/// LayerCAM (Jiang et al. 2021, eq. 5–6): ŵ^kc_ij = ReLU(∂y^c/∂A^k_ij), map = ReLU(Σ_k ŵ^kc ⊙ A^k) — every position
/// keeps its own positive gradient, which makes the maps of shallow layers usable.
/// <see cref="ExplainFused"/> combines several layers (Sec. 3.3).
/// </summary>
public sealed class LayerCam : PerPositionCam
{
    public override string Name => "layercam";
    protected override float Term(float activation, float gradient) => MathF.Max(gradient, 0f) * activation;

    /// <summary>Fused LayerCAM (Sec. 3.3): <see cref="LayerFusion.Explain"/> with LayerCAM at each of <paramref name="layers"/>, shallow to deep.</summary>
    public static FusedCamResult ExplainFused(CamExplainer explainer, Tensor input, CamTarget target, IReadOnlyList<string> layers) =>
        LayerFusion.Explain(explainer, new LayerCam(), input, target, layers);
}
