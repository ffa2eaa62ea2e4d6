namespace NanoCam.Explain.Methods;

/// <summary>
/// The input-space methods by name — Guided Backprop and Guided Grad-CAM, saliency, Deconvnet, input × gradient,
/// Integrated Gradients, SmoothGrad, Occlusion, LRP, Grad-CAM ⊙ LRP and FG-CAM — the list every command draws them from.
/// </summary>
public static class InputAttributions
{
    /// <summary>Every input-space method's name, in the order the command line lists them.</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        "guided-backprop", "guided-gradcam", "saliency", "deconvnet", "input-x-gradient", "integrated-gradients", "smoothgrad", "smoothgrad-sq", "occlusion",
        "lrp", "gradcam-lrp", "fgcam", "fgcam-denoise",
    ];

    /// <summary>Whether <paramref name="name"/> is an input-space method.</summary>
    public static bool Contains(string name) => Names.Contains(name);

    /// <summary>
    /// The method named <paramref name="name"/>; Guided Grad-CAM weighs by Grad-CAM at <paramref name="layer"/> (null: the
    /// model's default), FG-CAM takes its components there; <paramref name="settings"/> sets Integrated Gradients',
    /// SmoothGrad's, Occlusion's and FG-CAM's parameters.
    /// </summary>
    public static InputAttribution Create(string name, string? layer = null, InputAttributionSettings? settings = null)
    {
        if (settings is { } s)
            switch (name)
            {
                case "integrated-gradients": return new IntegratedGradients(s.Steps, s.Baseline, black: s.Black);
                case "smoothgrad": return new SmoothGrad(s.Samples, s.Noise);
                case "smoothgrad-sq": return new SmoothGrad(s.Samples, s.Noise, squared: true);
                case "occlusion": return new Occlusion(s.Window, s.Stride);
                case "lrp": return new Lrp(s.Lrp);
                case "gradcam-lrp": return new GradCamLrp(layer, s.Lrp);
                case "fgcam": return new FgCam(layer, s.FgBase);
                case "fgcam-denoise": return new FgCam(layer, s.FgBase, denoise: true);
            }
        return Default(name, layer);
    }

    private static InputAttribution Default(string name, string? layer) => name switch
    {
        "guided-backprop" => new GuidedBackpropAttribution(),
        "guided-gradcam" => new GuidedGradCamAttribution(layer),
        "saliency" => new Saliency(),
        "deconvnet" => new Deconvnet(),
        "input-x-gradient" => new InputXGradient(),
        "integrated-gradients" => new IntegratedGradients(),
        "smoothgrad" => new SmoothGrad(),
        "smoothgrad-sq" => new SmoothGrad(squared: true),
        "occlusion" => new Occlusion(),
        "lrp" => new Lrp(),
        "gradcam-lrp" => new GradCamLrp(layer),
        "fgcam" => new FgCam(layer),
        "fgcam-denoise" => new FgCam(layer, denoise: true),
        _ => throw new ArgumentException($"unknown input-space method '{name}'; valid names: {string.Join(", ", Names)}", nameof(name)),
    };

    /// <summary>Whether the method reads a layer (Guided Grad-CAM's and Grad-CAM ⊙ LRP's Grad-CAM, FG-CAM's components); the others work on the input alone.</summary>
    public static bool ReadsLayer(string name) => name is "guided-gradcam" or "gradcam-lrp" or "fgcam" or "fgcam-denoise";
}

/// <summary>
/// The parameters of the input-space methods that have them: Integrated Gradients' steps and baseline (with a black
/// pixel's model-input value per channel), SmoothGrad's samples and noise level, Occlusion's window and stride (0: auto),
/// LRP's rule and parameters (null: the defaults), FG-CAM's base method.
/// </summary>
public sealed record InputAttributionSettings(int Steps = 32, IntegrationBaseline Baseline = IntegrationBaseline.Zero, float[]? Black = null,
    int Samples = 16, float Noise = 0.15f, int Window = 0, int Stride = 0, Relevance.LrpSettings? Lrp = null, string FgBase = FgCam.DefaultBase);

/// <summary><see cref="GuidedBackprop"/> as an <see cref="InputAttribution"/>.</summary>
public sealed class GuidedBackpropAttribution : InputAttribution
{
    public override string Name => "guided-backprop";
    public override bool ReadsClassScore => false;

    public override AttributionResult Explain(CamExplainer explainer, Tensor input, CamTarget target) => From(GuidedBackprop.Explain(explainer, input, target));

    internal static AttributionResult From(GuidedBackpropResult r) => new(r.Values, r.Batch, r.Channels, r.Height, r.Width, r.TargetClasses);
}

/// <summary><see cref="GuidedGradCam"/> at <paramref name="layer"/> (null: the model's default layer) as an <see cref="InputAttribution"/>.</summary>
public sealed class GuidedGradCamAttribution(string? layer) : InputAttribution
{
    public override string Name => "guided-gradcam";
    public override bool ReadsClassScore => false;

    public override AttributionResult Explain(CamExplainer explainer, Tensor input, CamTarget target) =>
        GuidedBackpropAttribution.From(GuidedGradCam.Explain(explainer, input, target, layer).Values);
}
