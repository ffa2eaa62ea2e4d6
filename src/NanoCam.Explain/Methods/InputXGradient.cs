namespace NanoCam.Explain.Methods;

/// <summary>
/// Input × gradient (Shrikumar et al. 2016): a = x ⊙ ∂y^c/∂x, the first-order Taylor term of y^c around 0 (exact for a
/// model linear in x without bias: Σ a = y^c). The map is Σ_c |a_c|.
/// </summary>
public sealed class InputXGradient(int batchSize = 32) : InputAttribution
{
    public override string Name => "input-x-gradient";

    public override AttributionResult Explain(CamExplainer explainer, Tensor input, CamTarget target)
    {
        var (x, gradients, classes) = GradientsAtTheImages(explainer, input, target, batchSize);
        for (int i = 0; i < gradients.Length; i++) gradients[i] *= x[i];
        return ResultOf(input, gradients, classes);
    }
}
