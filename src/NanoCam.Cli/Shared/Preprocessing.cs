using System.CommandLine;
using System.Globalization;
using NanoCam.Imaging;

namespace NanoCam.Cli.Shared;

/// <summary>
/// Image → tensor for imported models: resize the shorter side, center-crop, channel order, pixel scale, mean/std.
/// SqueezeNet (Windows ML export) wants <c>--channel-order bgr --scale 255 --mean none</c>; torchvision models want the defaults with ImageNet mean/std.
/// </summary>
public sealed record Preprocessing(int Size, int Resize, bool Bgr, float Scale, float[] Mean, float[] Std)
{
    public static readonly float[] ImageNetMean = [0.485f, 0.456f, 0.406f], ImageNetStd = [0.229f, 0.224f, 0.225f];

    public sealed class Options
    {
        public Option<int> Size { get; } = CliOptions.Make("--size", "center-crop size (0: the model's input size)", 0);
        public Option<int> Resize { get; } = CliOptions.Make("--resize", "resize the shorter side to this first (0: to --size)", 0);
        public Option<string> ChannelOrder { get; } = CliOptions.Make("--channel-order", "rgb or bgr", "rgb");
        public Option<float> Scale { get; } = CliOptions.Make("--scale", "pixel scale: 1 for [0,1], 255 for raw 0–255 values", 1f);
        public Option<string> Mean { get; } = CliOptions.Make("--mean", "per-channel mean subtracted after scaling: imagenet, none, or r,g,b", "imagenet");
        public Option<string> Std { get; } = CliOptions.Make("--std", "per-channel std divided by: imagenet, none, or r,g,b", "imagenet");

        public void AddTo(Command command)
        {
            foreach (var o in new Option[] { Size, Resize, ChannelOrder, Scale, Mean, Std }) command.Options.Add(o);
        }

        public Preprocessing Read(ParseResult p, int modelSize)
        {
            int size = p.GetValue(Size) is > 0 and var s ? s : modelSize;
            string order = p.GetValue(ChannelOrder)!;
            if (order is not ("rgb" or "bgr")) throw new ArgumentException($"--channel-order must be rgb or bgr, got '{order}'");
            var mean = Triple(p.GetValue(Mean)!, ImageNetMean, 0f, "--mean");
            var std = Triple(p.GetValue(Std)!, ImageNetStd, 1f, "--std");
            if (std.Any(v => v == 0)) throw new ArgumentException("--std must not contain 0");
            return new Preprocessing(size, p.GetValue(Resize) is > 0 and var r ? r : size, order == "bgr", p.GetValue(Scale), mean, std);
        }

        private static float[] Triple(string text, float[] imagenet, float none, string name) => text switch
        {
            "imagenet" => imagenet,
            "none" => [none, none, none],
            _ => text.Split(',').Select(v => float.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) ? f
                : throw new ArgumentException($"{name}: '{text}' is not imagenet, none or three numbers")).ToArray() is { Length: 3 } t ? t
                : throw new ArgumentException($"{name}: '{text}' needs three comma-separated numbers"),
        };
    }

    /// <summary>The tensor [1, 3, Size, Size] and the cropped image (for overlays).</summary>
    public (Tensor Input, RgbImage Shown) Apply(RgbImage image)
    {
        var resized = image.Width == Resize && image.Height == Resize || Math.Min(image.Width, image.Height) == Resize ? image : Imaging.Resize.ShorterSide(image, Resize);
        var cropped = resized.Width == Size && resized.Height == Size ? resized : Imaging.Resize.CenterCrop(resized, Size, Size);
        var planar = new float[3 * Size * Size];
        cropped.ToPlanar(planar);
        var input = Tensor.Zeros(1, 3, Size, Size);
        var x = input.Span;
        int plane = Size * Size;
        for (int c = 0; c < 3; c++)
        {
            int source = Bgr ? 2 - c : c;
            for (int i = 0; i < plane; i++) x[c * plane + i] = (planar[source * plane + i] * Scale - Mean[c]) / Std[c];
        }
        return (input, cropped);
    }
}
