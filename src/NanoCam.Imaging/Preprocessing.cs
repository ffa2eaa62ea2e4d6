using System.Globalization;

namespace NanoCam.Imaging;

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

    /// <summary>
    /// The preprocessing for a model whose input is [1, <paramref name="channels"/>, <paramref name="modelSize"/>,
    /// <paramref name="modelSize"/>]: each setting from the first of <paramref name="sources"/> that gives it (the
    /// command line's flags, then the sidecar, then the model's metadata), else its default (RGB, scale 1, ImageNet mean
    /// and std — none for a one-channel model —, the model's size). An input size or resize of 0 means the default.
    /// </summary>
    public static Preprocessing Resolve(IReadOnlyList<PreprocessingSettings> sources, int modelSize, int channels)
    {
        var defaulted = new List<string>();
        PreprocessingSettings? From(string key, Func<PreprocessingSettings, bool> has)
        {
            var from = sources.FirstOrDefault(has);
            if (from is null) defaulted.Add(key);
            return from;
        }

        if (channels is not (1 or 3)) throw new ArgumentException($"images can feed models with 1 or 3 input channels, and this one has {channels}; pass a tensor with --input X.npy");
        int size = From("input_size", s => s.InputSize is not null)?.InputSize is > 0 and var s ? s : modelSize;
        int resize = From("resize", s => s.Resize is not null)?.Resize is > 0 and var r ? r : size;

        var orderFrom = From("channel_order", s => s.ChannelOrder is not null);
        string order = orderFrom?.ChannelOrder ?? "rgb";
        if (order is not ("rgb" or "bgr")) throw new ArgumentException($"{orderFrom!.Describe("channel_order")} must be rgb or bgr, got '{order}'");
        float scale = From("scale", s => s.Scale is not null)?.Scale ?? 1f;

        var meanFrom = From("mean", s => s.Mean is not null);
        var mean = meanFrom is null ? PerChannel("imagenet", "mean", ImageNetMean, 0f, channels, implicitDefault: true)
            : PerChannel(meanFrom.Mean!, meanFrom.Describe("mean"), ImageNetMean, 0f, channels, implicitDefault: false);
        var stdFrom = From("std", s => s.Std is not null);
        var std = stdFrom is null ? PerChannel("imagenet", "std", ImageNetStd, 1f, channels, implicitDefault: true)
            : PerChannel(stdFrom.Std!, stdFrom.Describe("std"), ImageNetStd, 1f, channels, implicitDefault: false);
        if (std.Any(v => v == 0)) throw new ArgumentException($"{stdFrom!.Describe("std")} must not contain 0");
        return new Preprocessing(size, resize, channels, order == "bgr", scale, mean, std) { Defaulted = defaulted };
    }

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
