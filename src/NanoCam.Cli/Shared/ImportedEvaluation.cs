using System.Globalization;
using NanoCam.Data;
using NanoCam.Explain;
using NanoCam.Imaging;
using NanoCam.Onnx;
using NanoCam.Onnx.Training;

namespace NanoCam.Cli.Shared;

/// <summary>
/// <c>nanocam eval</c> on an imported network (an .onnx file or a graph checkpoint written by <c>train --init</c>): the
/// graph checked against the data as the graph trainer checks it, and the normalization its input gets.
/// </summary>
public static class ImportedEvaluation
{
    /// <summary>Whether <paramref name="path"/> is an .onnx file or a graph checkpoint rather than a NanoCam checkpoint.</summary>
    public static bool IsImported(string path) =>
        path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) || GraphCheckpoint.IsGraphCheckpoint(path);

    /// <summary>
    /// The graph at <paramref name="path"/> ready to evaluate on <paramref name="data"/>, and one phrase saying where its
    /// normalization came from: a graph checkpoint's training mean/std, else the preprocessing that travels with an .onnx
    /// file (sidecar or <c>metadata_props</c>), else the data set's own mean/std. Each refusal is one line: a channel count
    /// other than the data's (one-channel data feeds a three-channel graph replicated), a fixed height × width other than
    /// the data's (nothing is resized), a class count other than the data's.
    /// </summary>
    public static (EvaluatedModel Model, string Normalization) Open(string path, Dataset data)
    {
        bool checkpoint = GraphCheckpoint.IsGraphCheckpoint(path);
        var (model, info) = checkpoint ? GraphCheckpoint.Load(path) : (OnnxModel.Load(path), null);
        string name = Path.GetFileName(path);
        if (model.Inputs.Count != 1 || model.Inputs[0].Dims.Count != 4)
            throw new ArgumentException($"{name} does not take one image batch [N, C, H, W]; eval takes a classifier of images");
        var declared = model.Inputs[0].Dims;
        int channels = declared[1] > 0 ? declared[1] : data.Channels;
        if (channels != data.Channels && !(data.Channels == 1 && channels == 3))
            throw new ArgumentException($"{name} takes {channels}-channel images but {data.Description} has {data.Channels}");
        if (declared[2] > 0 && declared[2] != data.Height || declared[3] > 0 && declared[3] != data.Width)
            throw new ArgumentException($"{name} takes {declared[2]}×{declared[3]} images but {data.Description} is {data.Height}×{data.Width}; eval does not resize the data");

        var explainable = new OnnxExplainable(model, null);
        int classes = explainable.OutputDims(channels, data.Height, data.Width).Aggregate(1, (a, d) => a * d);
        if (classes != data.ClassNames.Count)
            throw new ArgumentException($"{name} scores {classes} classes but {data.Description} has {data.ClassNames.Count}");
        IReadOnlyList<string> names = info?.Classes is { } trained && trained.Length == classes ? trained
            : ClassesInMetadata(model) is { } listed && listed.Count == classes ? listed : data.ClassNames;

        var (mean, std, source) = Normalization(path, model, info, data, channels);
        // The model's statistics are per input channel; one-channel data replicated takes the first (all equal when trained on it).
        if (mean.Length != data.Channels) (mean, std) = (mean[..data.Channels], std[..data.Channels]);
        string normalization = $"mean {Join(mean)}, std {Join(std)} ({source})";
        return (new EvaluatedModel(explainable, names, mean, std, channels), normalization);
    }

    private static (float[] Mean, float[] Std, string Source) Normalization(string path, OnnxModel model, GraphTrainingInfo? info, Dataset data, int channels)
    {
        if (info is not null) return (info.Mean, info.Std, "the graph checkpoint's training normalization");
        var travelling = PreprocessingSettings.For(path, model.MetadataProps);
        if (travelling.Count == 0)
        {
            var (mean, std) = DatasetStatistics.MeanStd(data);
            return (mean, std, "no preprocessing travels with the model, so the data set's own mean and std");
        }
        var pre = Preprocessing.Resolve(travelling, data.Height, channels);
        if (pre.Bgr && data.Channels == 3)
            throw new ArgumentException($"{Path.GetFileName(path)}'s preprocessing takes BGR input; eval feeds the data's RGB channels as they are");
        // The data's pixels are in [0, 1]: (x·scale − mean) / std = (x − mean/scale) / (std/scale).
        return ([.. pre.Mean.Select(m => m / pre.Scale)], [.. pre.Std.Select(s => s / pre.Scale)], $"the model's preprocessing: {pre.Describe()}");
    }

    /// <summary>The class names a graph NanoCam wrote carries (<see cref="GraphCheckpoint.ClassesKey"/>), or null.</summary>
    private static IReadOnlyList<string>? ClassesInMetadata(OnnxModel model)
    {
        if (!model.MetadataProps.TryGetValue(GraphCheckpoint.ClassesKey, out var json)) return null;
        try { return System.Text.Json.JsonSerializer.Deserialize<string[]>(json); }
        catch (System.Text.Json.JsonException) { return null; }
    }

    private static string Join(float[] values) => string.Join(",", values.Select(v => v.ToString("0.####", CultureInfo.InvariantCulture)));
}
