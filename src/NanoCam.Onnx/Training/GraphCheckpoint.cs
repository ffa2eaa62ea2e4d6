using System.Text.Json;
using System.Text.Json.Serialization;
using NanoCam.Imaging;
using NanoCam.Nn.Checkpoints;
using NanoCam.Onnx.Protos;

namespace NanoCam.Onnx.Training;

/// <summary>How a fine-tuned graph was trained and what it expects: the image size, classes and normalization its input had.</summary>
public sealed record GraphTrainingInfo
{
    /// <summary>The class names, in score order.</summary>
    [JsonPropertyName("classes")] public required string[] Classes { get; init; }
    /// <summary>Channels of the graph's input.</summary>
    [JsonPropertyName("input_channels")] public required int InputChannels { get; init; }
    /// <summary>Height of the images it was trained on.</summary>
    [JsonPropertyName("input_height")] public required int InputHeight { get; init; }
    /// <summary>Width of the images it was trained on.</summary>
    [JsonPropertyName("input_width")] public required int InputWidth { get; init; }
    /// <summary>Per-channel mean subtracted from [0, 1] RGB pixels.</summary>
    [JsonPropertyName("mean")] public required float[] Mean { get; init; }
    /// <summary>Per-channel standard deviation divided by.</summary>
    [JsonPropertyName("std")] public required float[] Std { get; init; }
    /// <summary>The training data's spec.</summary>
    [JsonPropertyName("data")] public string? Data { get; init; }
    /// <summary>Epochs trained.</summary>
    [JsonPropertyName("epoch")] public int Epoch { get; init; }
    /// <summary>The saved epoch's accuracy (validation, else training).</summary>
    [JsonPropertyName("accuracy")] public double? Accuracy { get; init; }
    /// <summary>Batch norm mode of the run: train or eval.</summary>
    [JsonPropertyName("bn_mode")] public string BatchNormMode { get; init; } = "train";
    /// <summary>The file fine-tuning started from.</summary>
    [JsonPropertyName("init")] public string? Init { get; init; }

    /// <summary>
    /// The <c>metadata_props</c> that make the graph describe itself: its preprocessing as NanoCam reads it
    /// (<see cref="PreprocessingSettings.MetadataKey"/>: RGB, [0, 1] pixels, this mean/std, this size) and its class names
    /// (<see cref="GraphCheckpoint.ClassesKey"/>, a JSON array).
    /// </summary>
    public Dictionary<string, string> MetadataProps() => new()
    {
        [PreprocessingSettings.MetadataKey] = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["channel_order"] = "rgb", ["scale"] = 1, ["mean"] = Mean, ["std"] = Std, ["input_size"] = InputHeight,
        }),
        [GraphCheckpoint.ClassesKey] = JsonSerializer.Serialize(Classes),
    };
}

/// <summary>
/// A fine-tuned ONNX graph as a safetensors file: every parameter (float initializer) as an F32 tensor under its ONNX
/// name; the header's metadata holds the graph itself (the ModelProto without the float initializers' data, base64)
/// and the <see cref="GraphTrainingInfo"/> (JSON). No file beside it is needed.
/// </summary>
public static class GraphCheckpoint
{
    /// <summary>Metadata keys: the format marker, the graph, the training description.</summary>
    public const string FormatKey = "nanocam.format", GraphKey = "nanocam.graph", TrainingKey = "nanocam.training";

    /// <summary>The value of <see cref="FormatKey"/> in a graph checkpoint.</summary>
    public const string FormatValue = "onnx-graph";

    /// <summary>The <c>metadata_props</c> key of the class names (a JSON array of strings) in graphs NanoCam writes.</summary>
    public const string ClassesKey = "nanocam.classes";

    /// <summary>Writes the model's parameters and graph with <paramref name="info"/> atomically (PATH.tmp, then renamed).</summary>
    public static void Save(string path, OnnxModel model, GraphTrainingInfo info)
    {
        var graph = model.ToProto(withWeights: false, info.MetadataProps());
        var metadata = new Dictionary<string, string>
        {
            [FormatKey] = FormatValue,
            [TrainingKey] = JsonSerializer.Serialize(info),
            [GraphKey] = Convert.ToBase64String(Google.Protobuf.MessageExtensions.ToByteArray(graph)),
        };
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        SafeTensors.Save(path, model.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (p.Key, p.Value)), metadata);
    }

    /// <summary>Whether <paramref name="path"/> is a readable safetensors file whose metadata marks a graph checkpoint.</summary>
    public static bool IsGraphCheckpoint(string path)
    {
        if (!path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) || !File.Exists(path)) return false;
        try { return SafeTensors.ReadMetadata(path).GetValueOrDefault(FormatKey) == FormatValue; }
        catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException) { return false; }
    }

    /// <summary>Reads a graph checkpoint: the graph with the trained parameters, and how it was trained.</summary>
    public static (OnnxModel Model, GraphTrainingInfo Info) Load(string path)
    {
        var (tensors, metadata) = SafeTensors.Load(path);
        if (metadata.GetValueOrDefault(FormatKey) != FormatValue || !metadata.TryGetValue(GraphKey, out var encoded) || !metadata.TryGetValue(TrainingKey, out var training))
            throw new InvalidDataException($"'{path}' is not a NanoCam graph checkpoint (its metadata has no {FormatKey} = {FormatValue} with the graph)");
        ModelProto graph;
        GraphTrainingInfo info;
        try
        {
            graph = ModelProto.Parser.ParseFrom(Convert.FromBase64String(encoded));
            info = JsonSerializer.Deserialize<GraphTrainingInfo>(training) ?? throw new JsonException("null");
        }
        catch (Exception ex) when (ex is FormatException or Google.Protobuf.InvalidProtocolBufferException or JsonException)
        {
            throw new InvalidDataException($"graph checkpoint '{path}' is corrupted: {ex.Message}");
        }
        // Each float initializer gets its trained values in its own element type, so the graph imports as the original did.
        var parameters = new Dictionary<string, Tensor>();
        foreach (var init in graph.Graph?.Initializer ?? [])
        {
            if (!tensors.TryGetValue(init.Name, out var tensor)) continue;
            var dims = tensor.Shape.ToArray();
            if (!dims.Select(d => (long)d).SequenceEqual(init.Dims))
                throw new InvalidDataException($"graph checkpoint '{path}': tensor '{init.Name}' has shape [{string.Join(", ", dims)}] but the graph declares [{string.Join(", ", init.Dims)}]");
            OnnxModel.Encode(init, tensor.Span, (OnnxDataType)init.DataType);
            parameters[init.Name] = tensor;
        }
        var model = OnnxModel.Load(Google.Protobuf.MessageExtensions.ToByteArray(graph), path, Path.GetDirectoryName(Path.GetFullPath(path)));
        foreach (var (name, parameter) in model.Parameters)
        {
            if (!parameters.TryGetValue(name, out var trained))
                throw new InvalidDataException($"graph checkpoint '{path}' has no tensor for parameter '{name}'");
            // FLOAT16 / BFLOAT16 weights: the file's F32 values, not their rounding to the graph's type.
            trained.Span.CopyTo(parameter.Span);
        }
        model.ParametersChanged();
        return (model, info);
    }
}
