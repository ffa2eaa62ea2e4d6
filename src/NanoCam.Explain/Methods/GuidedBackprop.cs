using NanoCam.Ops;

namespace NanoCam.Explain.Methods;

/// <summary>
/// Guided Backpropagation (Springenberg et al. 2015, eq. in Fig. 1): the gradient of y^c with respect to the input,
/// where every ReLU passes back only positive gradients at positions whose forward input was positive,
/// dx = dy · [x &gt; 0] · [dy &gt; 0]. Chosen at explanation time as a backward rule for "Relu", the model unchanged.
/// </summary>
public static class GuidedBackprop
{
    /// <summary>The raw guided gradients [N, C, H, W] of every image of <paramref name="input"/>.</summary>
    public static GuidedBackpropResult Explain(CamExplainer explainer, Tensor input, CamTarget target)
    {
        var capture = explainer.CaptureAtInput(input, target,
            configure: tape => tape.OverrideBackward("Relu", ActivationNode.ReluRule(ReluBackwardRule.Guided)));
        return new GuidedBackpropResult(capture.Gradients!, capture.Batch, capture.Channels, capture.Height, capture.Width, capture.TargetClasses);
    }
}

/// <summary>
/// Guided Grad-CAM (Selvaraju et al. 2017, Sec. 3.1): the guided-backprop gradients multiplied, pixel by pixel and in
/// every input channel, by the normalized Grad-CAM map upsampled to the input.
/// </summary>
public static class GuidedGradCam
{
    /// <summary>Guided Grad-CAM [N, C, H, W] of every image, with the Grad-CAM result and the guided gradients it combines.</summary>
    public static GuidedGradCamResult Explain(CamExplainer explainer, Tensor input, CamTarget target, string? layer = null)
    {
        var gradCam = explainer.Explain(new GradCam(), input, target, layer);
        // Both passes explain the same class of each image.
        var guided = GuidedBackprop.Explain(explainer, input, target is RankTarget ? new ImageClassTarget(gradCam.Capture.TargetClasses) : target);
        int plane = guided.Height * guided.Width;
        var values = new float[guided.Values.Length];
        for (int n = 0; n < guided.Batch; n++)
        {
            var map = gradCam.NormalizedOf(n);
            for (int c = 0; c < guided.Channels; c++)
            {
                int offset = (n * guided.Channels + c) * plane;
                for (int p = 0; p < plane; p++) values[offset + p] = guided.Values[offset + p] * map[p];
            }
        }
        return new GuidedGradCamResult(new GuidedBackpropResult(values, guided.Batch, guided.Channels, guided.Height, guided.Width, guided.TargetClasses), guided, gradCam);
    }
}

/// <summary>Raw input-space explanations [N, C, H, W] (not normalized) and the class explained for each image.</summary>
public sealed record GuidedBackpropResult(float[] Values, int Batch, int Channels, int Height, int Width, int[] TargetClasses)
{
    /// <summary>Image n, [C, H, W].</summary>
    public ReadOnlySpan<float> Of(int n) => Values.AsSpan(n * Channels * Height * Width, Channels * Height * Width);
}

/// <summary>Guided Grad-CAM [N, C, H, W], with the guided gradients and the Grad-CAM result it multiplies.</summary>
public sealed record GuidedGradCamResult(GuidedBackpropResult Values, GuidedBackpropResult Guided, CamResult GradCam);
