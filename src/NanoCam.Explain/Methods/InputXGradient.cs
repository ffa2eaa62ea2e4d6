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
        var (n, c, h, w) = (input.Shape[0], input.Shape[1], input.Shape[2], input.Shape[3]);
        var x = input.ToArray();
        var classes = ClassesOf(explainer, input, target);
        int size = c * h * w;
        var (gradients, _) = InputGradients(explainer, n, c, h, w, (i, image) => x.AsSpan(i * size, size).CopyTo(image), i => classes[i], batchSize);
        for (int i = 0; i < gradients.Length; i++) gradients[i] *= x[i];
        return new AttributionResult(gradients, n, c, h, w, classes);
    }
}
