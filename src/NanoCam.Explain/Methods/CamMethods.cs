namespace NanoCam.Explain.Methods;

/// <summary>The CAM methods by their command-line name.</summary>
public static class CamMethods
{
    private static readonly Dictionary<string, Func<CamMethod>> Factories = new()
    {
        ["cam"] = () => new Cam(),
        ["gradcam"] = () => new GradCam(),
        ["gradcam++"] = () => new GradCamPlusPlus(),
        ["smoothgradcam++"] = () => new SmoothGradCamPlusPlus(),
        ["xgradcam"] = () => new XGradCam(),
        ["hirescam"] = () => new HiResCam(),
        ["gradcam-elementwise"] = () => new GradCamElementwise(),
        ["layercam"] = () => new LayerCam(),
        ["scorecam"] = () => new ScoreCam(),
        ["sscam"] = () => new SmoothedScoreCam(),
        ["iscam"] = () => new IntegratedScoreCam(),
        ["ablationcam"] = () => new AblationCam(),
        ["eigencam"] = () => new EigenCam(),
        ["eigengradcam"] = () => new EigenGradCam(),
        ["fullgrad"] = () => new FullGrad(),
        ["random"] = () => new RandomCam(),
        ["counterfactual-gradcam"] = () => new CounterfactualGradCam(),
        ["kpcacam"] = () => new KpcaCam(),
        ["shapleycam"] = () => new ShapleyCam(),
        ["finercam"] = () => new FinerCam(),
        ["fem"] = () => new Fem(),
        ["abn-attention"] = () => new AbnAttention(),
    };

    /// <summary>Every registered name, in the order above.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Factories.Keys];

    /// <summary>A new method with its default settings; an unknown name is an <see cref="ArgumentException"/> listing the valid ones.</summary>
    public static CamMethod Create(string name) =>
        Factories.TryGetValue(name, out var create) ? create()
        : throw new ArgumentException($"unknown CAM method '{name}'; valid names: {string.Join(", ", Names)} (guided backprop and guided Grad-CAM: GuidedBackprop.Explain, GuidedGradCam.Explain)", nameof(name));
}
