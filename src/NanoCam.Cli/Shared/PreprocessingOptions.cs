using System.CommandLine;
using NanoCam.Imaging;

namespace NanoCam.Cli.Shared;

/// <summary>
/// The preprocessing flags every verb that feeds an image to an imported model takes, <c>--save-preprocess</c>, and
/// <c>--no-fuse</c> (how the imported graph runs).
/// </summary>
public sealed class PreprocessingOptions
{
    public Option<int> Size { get; } = CliOptions.Make("--size", "center-crop size (0: the sidecar's input_size, else the model's input size)", 0);
    public Option<int> Resize { get; } = CliOptions.Make("--resize", "resize the shorter side to this first (0: to --size)", 0);
    public Option<string> ChannelOrder { get; } = CliOptions.Make("--channel-order", "rgb or bgr", "rgb");
    public Option<float> Scale { get; } = CliOptions.Make("--scale", "pixel scale: 1 for [0,1], 255 for raw 0–255 values", 1f);
    public Option<string> Mean { get; } = CliOptions.Make("--mean", "per-channel mean subtracted after scaling: imagenet, none, r,g,b, or one number for every channel (a 1-channel model's default means none)", "imagenet");
    public Option<string> Std { get; } = CliOptions.Make("--std", "per-channel std divided by: imagenet, none, r,g,b, or one number for every channel (a 1-channel model's default means none)", "imagenet");

    /// <summary>Bare: MODEL.preprocess.json beside the model; with a path: there.</summary>
    public Option<string?> Save { get; } = new("--save-preprocess")
    {
        Description = "write the preprocessing in effect (and --labels) to MODEL.preprocess.json beside the model, or to the path given, so later runs need no flags",
        Arity = ArgumentArity.ZeroOrOne,
    };

    /// <summary>Runs every node of an imported graph as its plain operator (no BN folding, fused activations, in-place concats or prepared weights).</summary>
    public Option<bool> NoFuse { get; } = CliOptions.Make("--no-fuse",
        "ONNX models: run every node as its plain operator, with no load-time fusions (BatchNorm folded into the Conv, activations in its epilogue, concats written in place); same scores within float rounding, slower", false);

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { Size, Resize, ChannelOrder, Scale, Mean, Std, Save, NoFuse }) command.Options.Add(o);
    }

    /// <summary>Whether the imported graph's no-grad passes may fuse (not <c>--no-fuse</c>).</summary>
    public bool Fuse(ParseResult p) => !p.GetValue(NoFuse);

    /// <summary>Where <c>--save-preprocess</c> asks the sidecar of <paramref name="modelPath"/> to go; null when it was not given.</summary>
    public string? SavePath(ParseResult p, string modelPath) =>
        p.GetResult(Save) is { Implicit: false } ? p.GetValue(Save) ?? PreprocessingSettings.SidecarPath(modelPath) : null;

    /// <summary>
    /// The preprocessing for a model whose input is [1, <paramref name="channels"/>, <paramref name="modelSize"/>, <paramref name="modelSize"/>].
    /// Each setting comes from the first of: its flag when given, then each of <paramref name="travelling"/> in order
    /// (sidecar, metadata), then its default (<see cref="Preprocessing.Resolve"/>).
    /// </summary>
    public Preprocessing Read(ParseResult p, int modelSize, int channels, IReadOnlyList<PreprocessingSettings>? travelling = null)
    {
        bool Given(Option flag) => p.GetResult(flag) is { Implicit: false };
        var flags = new PreprocessingSettings("the command line")
        {
            FromFlags = true,
            InputSize = Given(Size) ? OptionChecks.AtLeast(p.GetValue(Size), 0, "--size") : null,
            Resize = Given(Resize) ? OptionChecks.AtLeast(p.GetValue(Resize), 0, "--resize") : null,
            ChannelOrder = Given(ChannelOrder) ? p.GetValue(ChannelOrder) : null,
            Scale = Given(Scale) ? OptionChecks.Positive(p.GetValue(Scale), "--scale") : null,
            Mean = Given(Mean) ? p.GetValue(Mean) : null,
            Std = Given(Std) ? p.GetValue(Std) : null,
        };
        return Preprocessing.Resolve([flags, .. travelling ?? []], modelSize, channels);
    }
}
