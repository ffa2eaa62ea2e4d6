using System.CommandLine;
using NanoCam.Explain;
using NanoCam.Imaging;
using NanoCam.Onnx;

namespace NanoCam.Cli.Shared;

/// <summary>A model to explain or run — a NanoCam checkpoint or an .onnx graph — with the way to turn an image into its input.</summary>
public sealed class LoadedModel
{
    private LoadedModel(IExplainable explainable, Func<RgbImage, (Tensor, RgbImage)> prepare, IReadOnlyList<int> inputShape)
    {
        Explainable = explainable;
        Prepare = prepare;
        InputShape = inputShape;
    }

    public IExplainable Explainable { get; }

    /// <summary>Image → (input tensor [1,C,H,W], the image as the model sees it, for overlays).</summary>
    public Func<RgbImage, (Tensor Input, RgbImage Shown)> Prepare { get; }

    public IReadOnlyList<int> InputShape { get; }

    public static LoadedModel Open(string path, string? labels, Preprocessing.Options preprocessing, ParseResult p)
    {
        if (path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
        {
            var onnx = new OnnxExplainable(OnnxModel.Load(path), OnnxExplainable.LoadLabels(labels));
            var shape = onnx.InputShape;
            var pre = preprocessing.Read(p, shape[^1], shape[1] > 0 ? shape[1] : 3);
            return new LoadedModel(onnx, image => pre.Apply(image), shape);
        }
        var trained = TrainedModel.Load(path);
        var m = trained.Metadata;
        return new LoadedModel(new ModuleExplainable(trained.Network, m.Classes), image =>
        {
            var resized = image.Width == m.InputWidth && image.Height == m.InputHeight ? image : Resize.Bilinear(image, m.InputWidth, m.InputHeight);
            return (ImageInput.FromImage(resized, m), resized);
        }, [1, m.InputChannels, m.InputHeight, m.InputWidth]);
    }

    /// <summary>
    /// A ready tensor from .npy: one image [C, H, W] or a batch [N, C, H, W] whose images have the model's input shape.
    /// Non-finite values are refused: they would give NaN scores and a meaningless map.
    /// </summary>
    public Tensor LoadInput(string npyPath)
    {
        var (data, shape) = Npy.Read(npyPath);
        if (shape.Length == InputShape.Count - 1) shape = [1, .. shape];
        if (shape.Length != InputShape.Count || shape[0] < 1 || !shape.AsSpan(1).SequenceEqual(InputShape.Skip(1).ToArray()))
            throw new ArgumentException($"input '{npyPath}' has shape [{string.Join(", ", shape)}] but the model takes [N, {string.Join(", ", InputShape.Skip(1))}] (or one image [{string.Join(", ", InputShape.Skip(1))}])");
        int bad = Array.FindIndex(data, v => !float.IsFinite(v));
        if (bad >= 0)
            throw new ArgumentException($"input '{npyPath}' holds {data.Count(v => !float.IsFinite(v))} of {data.Length} values that are not finite numbers "
                + $"(the first, {data[bad].ToString(System.Globalization.CultureInfo.InvariantCulture)}, at element {bad}); the model needs finite inputs");
        return Tensor.FromArray(data, shape);
    }
}
