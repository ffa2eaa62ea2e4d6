using NanoCam.Explain.Metrics;
using NanoCam.Explain.Relevance;

namespace NanoCam.Explain.Methods;

/// <summary>
/// Grad-CAM ⊙ LRP (Dhore et al. 2024, arXiv 2405.12175): the Grad-CAM map, upsampled and min–max normalized, denoised by
/// zeroing every value below its mean; multiplied pixel by pixel with LRP's relevance averaged over the input channels; the
/// product blurred by a Gaussian of σ = 5 px at 224 px, scaled with the image width (the blur of the deletion metric).
/// The result is that one map [N, 1, H, W]; the paper fixes neither its threshold nor σ, docs/cam-math.md §13 says why these.
/// </summary>
public sealed class GradCamLrp(string? layer = null, LrpSettings? settings = null) : InputAttribution
{
    public override string Name => "gradcam-lrp";

    public override AttributionResult Explain(CamExplainer explainer, Tensor input, CamTarget target)
    {
        var gradCam = explainer.Explain(new GradCam(), input, target, layer);
        // Both passes explain the same class of each image.
        var classes = gradCam.Capture.TargetClasses;
        var relevance = new Lrp(settings).Explain(explainer, input, CamTarget.PerImage(classes));
        int height = relevance.Height, width = relevance.Width;
        int plane = height * width;
        var values = new float[relevance.Batch * plane];
        for (int n = 0; n < relevance.Batch; n++)
        {
            var product = Combine(gradCam.NormalizedOf(n), relevance.Of(n), relevance.Channels);
            DeletionInsertion.GaussianBlur(product, 1, height, width, DeletionInsertion.BlurSigma(width)).CopyTo(values.AsSpan(n * plane, plane));
        }
        return new AttributionResult(values, relevance.Batch, 1, height, width, classes);
    }

    /// <summary>
    /// Denoised Grad-CAM ⊙ channel-mean LRP for one image: G′ = G where G ≥ mean(G), else 0; P = G′ · (1/C) Σ_c R_c.
    /// </summary>
    public static float[] Combine(ReadOnlySpan<float> gradCam, ReadOnlySpan<float> relevance, int channels)
    {
        int plane = gradCam.Length;
        float mean = 0f;
        foreach (var g in gradCam) mean += g;
        mean /= plane;
        var product = new float[plane];
        for (int p = 0; p < plane; p++)
        {
            if (gradCam[p] < mean) continue;
            float r = 0f;
            for (int c = 0; c < channels; c++) r += relevance[c * plane + p];
            product[p] = gradCam[p] * r / channels;
        }
        return product;
    }

    /// <summary>The blurred product itself.</summary>
    public override float[] MapOf(AttributionResult result, int n) => result.Of(n).ToArray();
}
