using System.CommandLine;
using NanoCam.Explain;
using NanoCam.Imaging;
using NanoCam.Nn.Models;
using NanoCam.Onnx;
using NanoCam.Onnx.Training;

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

    /// <summary>Label files looked for beside an ONNX model when neither --labels nor its preprocessing names one.</summary>
    public static IReadOnlyList<string> LabelFilesBeside => OnnxExplainable.LabelFilesBeside;

    public IExplainable Explainable { get; }

    /// <summary>Image → (input tensor [1,C,H,W], the image as the model sees it, for overlays).</summary>
    public Func<RgbImage, (Tensor Input, RgbImage Shown)> Prepare { get; }

    public IReadOnlyList<int> InputShape { get; }

    /// <summary>A NanoCam checkpoint's description (input size, classes, normalization); null for an imported model.</summary>
    public ModelMetadata? Metadata { get; private init; }

    /// <summary>An imported model's image preprocessing as resolved (flags, sidecar, metadata, defaults); null for a NanoCam checkpoint.</summary>
    public Preprocessing? Preprocessing { get; private init; }

    /// <summary>
    /// A grey pixel of <paramref name="level"/> in [0, 1] as the model sees it, per channel: (level − mean) / std (black: 0,
    /// white: 1); null for a ready tensor (<paramref name="tensorInput"/>) or a model without a normalization.
    /// </summary>
    public float[]? PixelInput(bool tensorInput, float level)
    {
        if (tensorInput) return null;
        var (mean, std) = Metadata is { } m ? (m.Mean, m.Std) : Preprocessing is { } pre ? (pre.Mean, pre.Std) : (null, null);
        return mean is null || std is null ? null : [.. mean.Zip(std, (mu, sigma) => (level - mu) / sigma)];
    }

    /// <summary>The label file in use, wherever it was found; null when there is none (or for a checkpoint, whose classes are in its .json).</summary>
    public string? LabelsPath { get; private init; }

    /// <summary>
    /// One line for a user whose imported model carries no preprocessing and who gave no flags: what was assumed and how
    /// to change it (only when <paramref name="fromImages"/>: a ready tensor is not preprocessed), and that no label file
    /// was found. Null when there is nothing to say.
    /// </summary>
    public string? Note(bool fromImages) =>
        string.Join("; ", new[] { fromImages ? _assumedPreprocessing : null, _missingLabels }.OfType<string>()) is { Length: > 0 } note ? note : null;

    private string? _assumedPreprocessing, _missingLabels;

    public static LoadedModel Open(string path, string? labels, PreprocessingOptions preprocessing, ParseResult p)
    {
        bool graphCheckpoint = GraphCheckpoint.IsGraphCheckpoint(path);
        if (path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) || graphCheckpoint)
        {
            // The sidecar first: a malformed one fails before the model is read.
            var sidecar = PreprocessingSettings.ReadSidecar(path);
            // A graph checkpoint (train --init) is the graph with its trained weights; its metadata_props say how it was fed.
            var model = graphCheckpoint ? GraphCheckpoint.Load(path).Model : OnnxModel.Load(path);
            model.Fuse = preprocessing.Fuse(p);
            IReadOnlyList<PreprocessingSettings> travelling = [.. new[] { sidecar, PreprocessingSettings.FromMetadata(model.MetadataProps, path) }.OfType<PreprocessingSettings>()];
            string? labelsPath = labels ?? travelling.Select(s => s.Labels).FirstOrDefault(l => l is not null);
            var onnx = new OnnxExplainable(model, OnnxExplainable.LoadLabels(labelsPath) ?? ClassesInMetadata(model));
            if (labelsPath is null && onnx.ClassNames is null && FindLabelsBeside(path, onnx.Classes) is ({ } found, { } names))
                (onnx, labelsPath) = (new OnnxExplainable(model, names), found);
            var shape = onnx.InputShape;
            var pre = preprocessing.Read(p, shape[^1], shape[1] > 0 ? shape[1] : 3, travelling);
            if (preprocessing.SavePath(p, path) is { } savePath)
            {
                PreprocessingSettings.Save(savePath, pre, labelsPath);
                Console.Error.WriteLine($"nanocam: preprocessing ({pre.Describe()}{(labelsPath is null ? "" : $", labels {Path.GetFileName(labelsPath)}")}) written to {savePath}");
            }
            return new LoadedModel(onnx, image => pre.Apply(image), shape)
            {
                Preprocessing = pre,
                LabelsPath = labelsPath,
                _assumedPreprocessing = travelling.Count == 0 ? AssumedPreprocessing(path, pre) : null,
                _missingLabels = labelsPath is null && onnx.ClassNames is null ? $"no labels: --labels FILE, or {string.Join(" / ", LabelFilesBeside)} beside the model" : null,
            };
        }
        if (preprocessing.SavePath(p, path) is not null)
            throw new ArgumentException($"--save-preprocess is for ONNX models; a NanoCam checkpoint's preprocessing is in {Path.GetFileName(ModelMetadata.PathFor(path))}");
        var trained = TrainedModel.Load(path);
        var m = trained.Metadata;
        IExplainable explainable = trained.Model is GapCnn classifier ? new ModuleExplainable(classifier, m.Classes) : new DenseExplainable(trained.Model, m.InputHeight, m.InputWidth, m.Classes);
        return new LoadedModel(explainable, image =>
        {
            var resized = image.Width == m.InputWidth && image.Height == m.InputHeight ? image : Resize.Bilinear(image, m.InputWidth, m.InputHeight);
            return (ImageInput.FromImage(resized, m), resized);
        }, [1, m.InputChannels, m.InputHeight, m.InputWidth]) { Metadata = m };
    }

    /// <summary>The class names a graph NanoCam wrote carries (<see cref="GraphCheckpoint.ClassesKey"/>), or null.</summary>
    private static IReadOnlyList<string>? ClassesInMetadata(OnnxModel model)
    {
        if (!model.MetadataProps.TryGetValue(GraphCheckpoint.ClassesKey, out var json)) return null;
        try { return System.Text.Json.JsonSerializer.Deserialize<string[]>(json); }
        catch (System.Text.Json.JsonException) { return null; }
    }

    /// <summary>What was assumed when no flag gave the pixel values' meaning and nothing travels with the model, and how to change it.</summary>
    private static string? AssumedPreprocessing(string modelPath, Preprocessing pre) =>
        pre.Defaulted.Intersect(["channel_order", "scale", "mean", "std"]).Any()
            ? $"no {Path.GetFileName(PreprocessingSettings.SidecarPath(modelPath))} or metadata_props, so assumed {pre.Describe()}; change it with "
              + "--channel-order, --scale, --mean, --std, --size (raw 0–255 BGR: --channel-order bgr --scale 255 --mean none --std none) and keep it with --save-preprocess"
            : null;

    /// <summary>The first of <see cref="LabelFilesBeside"/> next to the model that names exactly <paramref name="classes"/> classes.</summary>
    private static (string Path, IReadOnlyList<string> Names)? FindLabelsBeside(string modelPath, int classes)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(modelPath))!;
        foreach (var name in LabelFilesBeside)
        {
            var candidate = Path.Combine(folder, name);
            // A label file for another model in the same folder (1000 ImageNet names beside a 10-class MNIST net) is not this one's.
            if (File.Exists(candidate) && OnnxExplainable.LoadLabels(candidate) is { } names && names.Count == classes) return (candidate, names);
        }
        return null;
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
