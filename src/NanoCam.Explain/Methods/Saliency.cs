namespace NanoCam.Explain.Methods;

/// <summary>
/// Saliency (Simonyan et al. 2014, Sec. 3.1): w = ∂y^c/∂x at the image; the attributions are |w|, and the map is
/// M_ij = max_c |w_(i,j,c)|, the paper's maximum over colour channels.
/// </summary>
public sealed class Saliency(int batchSize = 32) : InputAttribution
{
    public override string Name => "saliency";

    public override AttributionResult Explain(CamExplainer explainer, Tensor input, CamTarget target)
    {
        var (_, gradients, classes) = GradientsAtTheImages(explainer, input, target, batchSize);
        for (int i = 0; i < gradients.Length; i++) gradients[i] = MathF.Abs(gradients[i]);
        return ResultOf(input, gradients, classes);
    }

    /// <summary>M_ij = max_c |∂y^c/∂x_(c,i,j)|.</summary>
    public override float[] MapOf(AttributionResult result, int n)
    {
        var values = result.Of(n);
        int plane = result.Height * result.Width;
        var map = new float[plane];
        for (int c = 0; c < result.Channels; c++)
            for (int p = 0; p < plane; p++) map[p] = MathF.Max(map[p], values[c * plane + p]);
        return map;
    }
}
