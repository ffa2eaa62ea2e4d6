using System.CommandLine;
using System.Globalization;
using NanoCam.Imaging;

namespace NanoCam.Cli.Shared;

/// <summary>
/// Image → tensor for imported models: resize the shorter side, center-crop, channel order, pixel scale, mean/std.
/// SqueezeNet (Windows ML export) wants <c>--channel-order bgr --scale 255 --mean none</c>; torchvision models want the defaults with ImageNet mean/std.
/// A model whose input has one channel gets the image's luminance (ITU-R BT.601 weights), one mean and one std.
/// </summary>
public sealed record Preprocessing(int Size, int Resize, int Channels, bool Bgr, float Scale, float[] Mean, float[] Std)
{
    public static readonly float[] ImageNetMean = [0.485f, 0.456f, 0.406f], ImageNetStd = [0.229f, 0.224f, 0.225f];

    /// <summary>The settings that no flag, sidecar or metadata gave, so their defaults were assumed (sidecar key names).</summary>
    public IReadOnlyList<string> Defaulted { get; init; } = [];

    /// <summary>One phrase for messages: <c>bgr, scale 255, mean none, std none, 224×224</c>.</summary>
    public string Describe()
    {
        static string Values(float[] values, float[] imagenet, float none) =>
            values.SequenceEqual(imagenet) ? "imagenet" : values.All(v => v == none) ? "none" : string.Join(",", values.Select(v => v.ToString(CultureInfo.InvariantCulture)));
        string resize = Resize != Size ? $" (shorter side to {Resize} first)" : "";
        return $"{(Bgr ? "bgr" : "rgb")}, scale {Scale.ToString(CultureInfo.InvariantCulture)}, mean {Values(Mean, ImageNetMean, 0f)}, std {Values(Std, ImageNetStd, 1f)}, {Size}×{Size}{resize}";
    }

    /// <summary>The preprocessing flags every verb that feeds an image to an imported model takes, and <c>--save-preprocess</c>.</summary>
    public sealed class Options
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

        public void AddTo(Command command)
        {
            foreach (var o in new Option[] { Size, Resize, ChannelOrder, Scale, Mean, Std, Save }) command.Options.Add(o);
        }

        /// <summary>Where <c>--save-preprocess</c> asks the sidecar of <paramref name="modelPath"/> to go; null when it was not given.</summary>
        public string? SavePath(ParseResult p, string modelPath) =>
            p.GetResult(Save) is { Implicit: false } ? p.GetValue(Save) ?? PreprocessingSettings.SidecarPath(modelPath) : null;

        /// <summary>
        /// The preprocessing for a model whose input is [1, <paramref name="channels"/>, <paramref name="modelSize"/>, <paramref name="modelSize"/>].
        /// Each setting comes from the first of: its flag when given, then each of <paramref name="travelling"/> in order
        /// (sidecar, metadata), then the flag's default.
        /// </summary>
        public Preprocessing Read(ParseResult p, int modelSize, int channels, IReadOnlyList<PreprocessingSettings>? travelling = null)
        {
            travelling ??= [];
            var defaulted = new List<string>();
            // The settings that give this key, or null when the flag was given or nothing travelling has the key.
            PreprocessingSettings? From(Option flag, string key, Func<PreprocessingSettings, bool> has)
            {
                if (p.GetResult(flag) is { Implicit: false }) return null;
                var from = travelling.FirstOrDefault(has);
                if (from is null) defaulted.Add(key);
                return from;
            }

            if (channels is not (1 or 3)) throw new ArgumentException($"images can feed models with 1 or 3 input channels, and this one has {channels}; pass a tensor with --input X.npy");
            var sizeFrom = From(Size, "input_size", s => s.InputSize is not null);
            int size = sizeFrom?.InputSize ?? (OptionChecks.AtLeast(p.GetValue(Size), 0, "--size") is > 0 and var s ? s : modelSize);
            var resizeFrom = From(Resize, "resize", s => s.Resize is not null);
            int resize = resizeFrom?.Resize ?? (OptionChecks.AtLeast(p.GetValue(Resize), 0, "--resize") is > 0 and var r ? r : size);

            var orderFrom = From(ChannelOrder, "channel_order", s => s.ChannelOrder is not null);
            string order = orderFrom?.ChannelOrder ?? p.GetValue(ChannelOrder)!;
            if (order is not ("rgb" or "bgr")) throw new ArgumentException($"--channel-order must be rgb or bgr, got '{order}'");
            var scaleFrom = From(Scale, "scale", s => s.Scale is not null);
            float scale = scaleFrom?.Scale ?? OptionChecks.Positive(p.GetValue(Scale), "--scale");

            var meanFrom = From(Mean, "mean", s => s.Mean is not null);
            var mean = meanFrom is null ? PerChannel(p.GetValue(Mean)!, Mean.Name, ImageNetMean, 0f, channels, IsDefault(p, Mean))
                : PerChannel(meanFrom.Mean!, meanFrom.Describe("mean"), ImageNetMean, 0f, channels, implicitDefault: false);
            var stdFrom = From(Std, "std", s => s.Std is not null);
            string stdName = stdFrom?.Describe("std") ?? Std.Name;
            var std = stdFrom is null ? PerChannel(p.GetValue(Std)!, Std.Name, ImageNetStd, 1f, channels, IsDefault(p, Std))
                : PerChannel(stdFrom.Std!, stdName, ImageNetStd, 1f, channels, implicitDefault: false);
            if (std.Any(v => v == 0)) throw new ArgumentException($"{stdName} must not contain 0");
            return new Preprocessing(size, resize, channels, order == "bgr", scale, mean, std) { Defaulted = defaulted };
        }

        private static bool IsDefault(ParseResult p, Option option) => p.GetResult(option) is null or { Implicit: true };

        /// <summary>One value per input channel (one number is every channel's); ImageNet's statistics only describe RGB, so a gray model's default is none.</summary>
        private static float[] PerChannel(string text, string name, float[] imagenet, float none, int channels, bool implicitDefault)
        {
            if (text == "imagenet" && channels == 1)
                return implicitDefault ? [none] : throw new ArgumentException($"{name} imagenet describes RGB input, but this model takes 1 channel: give none or one number");
            if (text == "imagenet") return imagenet;
            if (text == "none") return Enumerable.Repeat(none, channels).ToArray();
            var values = text.Split(',').Select(v => float.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) && float.IsFinite(f) ? f
                : throw new ArgumentException($"{name}: '{text}' is not imagenet, none or {(channels == 1 ? "one number" : $"one number or {channels} numbers")}")).ToArray();
            // One number stands for every channel: (x − 0.5) / 0.5 needs no r,g,b spelled out.
            if (values.Length == 1) return Enumerable.Repeat(values[0], channels).ToArray();
            return values.Length == channels ? values
                : throw new ArgumentException($"{name}: '{text}' has {values.Length} number(s) but the model takes {channels} channel(s)");
        }
    }

    /// <summary>The tensor [1, Channels, Size, Size] and the cropped image (for overlays).</summary>
    public (Tensor Input, RgbImage Shown) Apply(RgbImage image)
    {
        var resized = image.Width == Resize && image.Height == Resize || Math.Min(image.Width, image.Height) == Resize ? image : Imaging.Resize.ShorterSide(image, Resize);
        var cropped = resized.Width == Size && resized.Height == Size ? resized : Imaging.Resize.CenterCrop(resized, Size, Size);
        int plane = Size * Size;
        var planar = new float[3 * plane];
        cropped.ToPlanar(planar);
        var input = Tensor.Zeros(1, Channels, Size, Size);
        var x = input.Span;
        for (int c = 0; c < Channels; c++)
        {
            int source = Bgr ? 2 - c : c;
            for (int i = 0; i < plane; i++)
            {
                float v = Channels == 1 ? Rgb.Luma(planar[i], planar[plane + i], planar[2 * plane + i]) : planar[source * plane + i];
                x[c * plane + i] = (v * Scale - Mean[c]) / Std[c];
            }
        }
        return (input, cropped);
    }
}
