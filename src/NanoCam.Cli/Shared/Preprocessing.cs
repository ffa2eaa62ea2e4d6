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

    public sealed class Options
    {
        public Option<int> Size { get; } = CliOptions.Make("--size", "center-crop size (0: the model's input size)", 0);
        public Option<int> Resize { get; } = CliOptions.Make("--resize", "resize the shorter side to this first (0: to --size)", 0);
        public Option<string> ChannelOrder { get; } = CliOptions.Make("--channel-order", "rgb or bgr", "rgb");
        public Option<float> Scale { get; } = CliOptions.Make("--scale", "pixel scale: 1 for [0,1], 255 for raw 0–255 values", 1f);
        public Option<string> Mean { get; } = CliOptions.Make("--mean", "per-channel mean subtracted after scaling: imagenet, none, or r,g,b (one number for a 1-channel model, where the default means none)", "imagenet");
        public Option<string> Std { get; } = CliOptions.Make("--std", "per-channel std divided by: imagenet, none, or r,g,b (one number for a 1-channel model, where the default means none)", "imagenet");

        public void AddTo(Command command)
        {
            foreach (var o in new Option[] { Size, Resize, ChannelOrder, Scale, Mean, Std }) command.Options.Add(o);
        }

        /// <summary>The options for a model whose input is [1, <paramref name="channels"/>, <paramref name="modelSize"/>, <paramref name="modelSize"/>].</summary>
        public Preprocessing Read(ParseResult p, int modelSize, int channels)
        {
            if (channels is not (1 or 3)) throw new ArgumentException($"images can feed models with 1 or 3 input channels, and this one has {channels}; pass a tensor with --input X.npy");
            int size = OptionChecks.AtLeast(p.GetValue(Size), 0, "--size") is > 0 and var s ? s : modelSize;
            int resize = OptionChecks.AtLeast(p.GetValue(Resize), 0, "--resize") is > 0 and var r ? r : size;
            float scale = OptionChecks.Positive(p.GetValue(Scale), "--scale");
            string order = p.GetValue(ChannelOrder)!;
            if (order is not ("rgb" or "bgr")) throw new ArgumentException($"--channel-order must be rgb or bgr, got '{order}'");
            var mean = PerChannel(p, Mean, ImageNetMean, 0f, channels);
            var std = PerChannel(p, Std, ImageNetStd, 1f, channels);
            if (std.Any(v => v == 0)) throw new ArgumentException("--std must not contain 0");
            return new Preprocessing(size, resize, channels, order == "bgr", scale, mean, std);
        }

        /// <summary>One value per input channel; ImageNet's statistics only describe RGB, so a gray model's default is none.</summary>
        private static float[] PerChannel(ParseResult p, Option<string> option, float[] imagenet, float none, int channels)
        {
            string text = p.GetValue(option)!, name = option.Name;
            bool implicitDefault = p.GetResult(option) is null or { Implicit: true };
            if (text == "imagenet" && channels == 1)
                return implicitDefault ? [none] : throw new ArgumentException($"{name} imagenet describes RGB input, but this model takes 1 channel: give none or one number");
            if (text == "imagenet") return imagenet;
            if (text == "none") return Enumerable.Repeat(none, channels).ToArray();
            var values = text.Split(',').Select(v => float.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) && float.IsFinite(f) ? f
                : throw new ArgumentException($"{name}: '{text}' is not imagenet, none or {channels} number(s)")).ToArray();
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
