using System.CommandLine;
using NanoCam.Explain.Methods;
using NanoCam.Explain.Relevance;

namespace NanoCam.Cli.Shared;

/// <summary>
/// The options of the relevance methods, shared by <c>explain</c>, <c>explain-dataset</c> and <c>evaluate-explanations</c>:
/// <c>--lrp-rule</c>, <c>--lrp-epsilon</c>, <c>--lrp-gamma</c> (lrp, gradcam-lrp) and <c>--fg-base</c> (fgcam, fgcam-denoise).
/// </summary>
public sealed class RelevanceOptions
{
    /// <summary>The methods these options change.</summary>
    public static readonly IReadOnlyList<string> Methods = ["lrp", "gradcam-lrp", "fgcam", "fgcam-denoise"];

    private readonly Option<string> _rule = CliOptions.Make("--lrp-rule", $"lrp, gradcam-lrp: the linear layers' rule, one of: {string.Join(", ", LrpSettings.RuleNames)} (composite: z^B at the layer that reads the image, γ at the other convolutions, ε at the dense layers)", "composite");
    private readonly Option<float> _epsilon = CliOptions.Make("--lrp-epsilon", "lrp, gradcam-lrp: ε of the epsilon rule, a fraction of the layer's root-mean-square pre-activation", 0.25f);
    private readonly Option<float> _gamma = CliOptions.Make("--lrp-gamma", "lrp, gradcam-lrp: γ of the gamma rule, the weight of the positive weights", 0.25f);
    private readonly Option<string> _fgBase = CliOptions.Make("--fg-base", $"fgcam, fgcam-denoise: the CAM method whose components are carried to the input: {string.Join(", ", FgCam.Bases)}", FgCam.DefaultBase);

    public RelevanceOptions()
    {
        _rule.Validators.Add(result =>
        {
            var name = result.GetValueOrDefault<string>() ?? "";
            if (!LrpSettings.RuleNames.Contains(name)) result.AddError($"unknown --lrp-rule '{name}' (known: {string.Join(", ", LrpSettings.RuleNames)})");
        });
        _fgBase.Validators.Add(result => { if (FgCam.WhyNotBase(result.GetValueOrDefault<string>() ?? "") is { } problem) result.AddError($"--fg-base: {problem}"); });
    }

    /// <summary>Adds the four options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(_rule);
        command.Options.Add(_epsilon);
        command.Options.Add(_gamma);
        command.Options.Add(_fgBase);
    }

    /// <summary>
    /// <paramref name="settings"/> with the LRP rule and FG-CAM base given; z^B's bounds are black and white through the
    /// model's normalization (null for a ready tensor, <paramref name="tensorInput"/>).
    /// </summary>
    public InputAttributionSettings Apply(InputAttributionSettings settings, ParseResult p, LoadedModel loaded, bool tensorInput) =>
        settings with
        {
            Lrp = new LrpSettings(LrpSettings.ParseRule(p.GetValue(_rule)!), OptionChecks.NotNegative(p.GetValue(_epsilon), "--lrp-epsilon"),
                OptionChecks.NotNegative(p.GetValue(_gamma), "--lrp-gamma"), loaded.PixelInput(tensorInput, 0f), loaded.PixelInput(tensorInput, 1f)),
            FgBase = p.GetValue(_fgBase)!,
        };

    /// <summary>The settings in words for a results folder's run.json, when <paramref name="methods"/> include one they change; else null.</summary>
    public string? Describe(ParseResult p, IEnumerable<string> methods) =>
        methods.Any(Methods.Contains)
            ? $"lrp-rule={p.GetValue(_rule)}, lrp-epsilon={p.GetValue(_epsilon)}, lrp-gamma={p.GetValue(_gamma)}, fg-base={p.GetValue(_fgBase)}"
            : null;
}
