using NanoCam.Explain.Methods;

namespace NanoCam.Explain;

/// <summary>
/// An explanation method by name, for <see cref="Explainer.Explain(string, Method, CamTarget?, string?)"/>: the CAM family
/// (<see cref="CamMethods"/>) and the input-space methods (<see cref="InputAttributions"/>), as <c>nanocam explain --method</c>
/// names them.
/// </summary>
public readonly record struct Method
{
    private Method(string name) => Name = name;

    /// <summary>The method's command-line name ("gradcam", "integrated-gradients", …).</summary>
    public string Name { get; }

    /// <summary>Whether the method explains in input space (one value per input pixel and channel) rather than at a layer.</summary>
    public bool IsInputSpace => InputAttributions.Contains(Name);

    /// <summary>Every method's name: the CAM family first, then the input-space methods.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. CamMethods.Names, .. InputAttributions.Names];

    /// <summary>The method called <paramref name="name"/>; an unknown name is an <see cref="ArgumentException"/> listing the known ones.</summary>
    public static Method Named(string name) =>
        Names.Contains(name) ? new Method(name) : throw new ArgumentException($"unknown method '{name}' (known: {string.Join(", ", Names)})");

    public static Method Cam => Named("cam");
    public static Method GradCam => Named("gradcam");
    public static Method GradCamPlusPlus => Named("gradcam++");
    public static Method HiResCam => Named("hirescam");
    public static Method XGradCam => Named("xgradcam");
    public static Method LayerCam => Named("layercam");
    public static Method ScoreCam => Named("scorecam");
    public static Method AblationCam => Named("ablationcam");
    public static Method EigenCam => Named("eigencam");
    public static Method FullGrad => Named("fullgrad");
    public static Method GuidedBackprop => Named("guided-backprop");
    public static Method GuidedGradCam => Named("guided-gradcam");
    public static Method Saliency => Named("saliency");
    public static Method IntegratedGradients => Named("integrated-gradients");
    public static Method SmoothGrad => Named("smoothgrad");
    public static Method Occlusion => Named("occlusion");

    public override string ToString() => Name;
}
