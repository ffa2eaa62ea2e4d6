using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
namespace NanoCam.Imaging;

/// <summary>
/// Preprocessing that travels with an ONNX model, every key optional: a sidecar <c>MODEL.preprocess.json</c> beside it, or
/// the model's <c>metadata_props</c> (the same JSON under <c>nanocam.preprocess</c>, or Windows ML's image keys).
/// Mean and std are kept in the command line's spelling (<c>imagenet</c>, <c>none</c> or <c>a,b,c</c>) and checked against
/// the model's channels by <see cref="Preprocessing.Resolve"/>; docs/preprocessing.md lists the keys.
/// </summary>
public sealed record PreprocessingSettings(string Source)
{
    /// <summary>The key under which <c>metadata_props</c> may hold the sidecar's JSON.</summary>
    public const string MetadataKey = "nanocam.preprocess";

    /// <summary>The sidecar's keys, in the order <see cref="Serialize"/> writes them.</summary>
    public static readonly string[] Keys = ["channel_order", "scale", "mean", "std", "input_size", "resize", "labels"];

    public string? ChannelOrder { get; init; }
    public float? Scale { get; init; }
    public string? Mean { get; init; }
    public string? Std { get; init; }

    /// <summary>The side of the square center crop the model takes.</summary>
    public int? InputSize { get; init; }

    /// <summary>The shorter side is resized to this before the crop.</summary>
    public int? Resize { get; init; }

    /// <summary>The label file, resolved against the sidecar's folder (or the model's, for metadata).</summary>
    public string? Labels { get; init; }

    /// <summary>
    /// Whether these settings are the command line's flags, so that errors name the flag (<c>--mean</c>) rather than a
    /// source and a key.
    /// </summary>
    public bool FromFlags { get; init; }

    /// <summary>
    /// Names one key of this source in an error: <c>preprocessing file 'm.preprocess.json', key "mean"</c>, or for flags
    /// the flag: <c>--mean</c> (input_size is <c>--size</c>).
    /// </summary>
    public string Describe(string key) => FromFlags ? FlagFor(key) : $"{Source}, key \"{key}\"";

    /// <summary>The command-line flag that sets <paramref name="key"/>.</summary>
    public static string FlagFor(string key) => key == "input_size" ? "--size" : "--" + key.Replace('_', '-');

    /// <summary>MODEL.preprocess.json beside MODEL.onnx.</summary>
    public static string SidecarPath(string modelPath) => Path.ChangeExtension(modelPath, ".preprocess.json");

    /// <summary>
    /// What travels with <paramref name="modelPath"/>, first to last in precedence: its sidecar, then its metadata.
    /// Empty when neither says anything. A malformed sidecar is one error naming the file and the key.
    /// </summary>
    public static IReadOnlyList<PreprocessingSettings> For(string modelPath, IReadOnlyDictionary<string, string> metadata)
    {
        var found = new List<PreprocessingSettings>();
        if (ReadSidecar(modelPath) is { } sidecar) found.Add(sidecar);
        if (FromMetadata(metadata, modelPath) is { } fromMetadata) found.Add(fromMetadata);
        return found;
    }

    /// <summary>The sidecar of <paramref name="modelPath"/>, or null when there is none.</summary>
    public static PreprocessingSettings? ReadSidecar(string modelPath)
    {
        var path = SidecarPath(modelPath);
        if (!File.Exists(path)) return null;
        return Parse(File.ReadAllText(path), $"preprocessing file '{path}'", Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    /// <summary>
    /// Preprocessing from <c>metadata_props</c>: the JSON under <see cref="MetadataKey"/>, over Windows ML's
    /// <c>Image.BitmapPixelFormat</c> (Bgr8, Rgb8, …) and <c>Image.NominalPixelRange</c> (NominalRange_0_255, Normalized_0_1,
    /// Normalized_1_1). Null when neither is there.
    /// </summary>
    public static PreprocessingSettings? FromMetadata(IReadOnlyDictionary<string, string> metadata, string modelPath)
    {
        string source = $"metadata_props of '{modelPath}'";
        var windowsMl = new PreprocessingSettings(source);
        if (metadata.TryGetValue("Image.BitmapPixelFormat", out var format))
            windowsMl = windowsMl with { ChannelOrder = format.ToLowerInvariant() switch { "bgr8" or "bgra8" => "bgr", "rgb8" or "rgba8" => "rgb", _ => null } };
        if (metadata.TryGetValue("Image.NominalPixelRange", out var range))
            windowsMl = range switch
            {
                "NominalRange_0_255" => windowsMl with { Scale = 255, Mean = "none", Std = "none" },
                "Normalized_0_1" => windowsMl with { Scale = 1, Mean = "none", Std = "none" },
                // (x − 0.5) / 0.5 maps [0, 1] onto [−1, 1].
                "Normalized_1_1" => windowsMl with { Scale = 1, Mean = "0.5", Std = "0.5" },
                _ => windowsMl,
            };
        PreprocessingSettings? own = metadata.TryGetValue(MetadataKey, out var json)
            ? Parse(json, $"metadata_props \"{MetadataKey}\" of '{modelPath}'", Path.GetDirectoryName(Path.GetFullPath(modelPath))!)
            : null;
        var merged = own is null ? windowsMl : own with
        {
            ChannelOrder = own.ChannelOrder ?? windowsMl.ChannelOrder,
            Scale = own.Scale ?? windowsMl.Scale,
            Mean = own.Mean ?? windowsMl.Mean,
            Std = own.Std ?? windowsMl.Std,
        };
        return merged.IsEmpty ? null : merged;
    }

    private bool IsEmpty => ChannelOrder is null && Scale is null && Mean is null && Std is null && InputSize is null && Resize is null && Labels is null;

    /// <summary>Reads the sidecar's JSON object; <paramref name="source"/> names it in errors, <paramref name="baseDirectory"/> resolves <c>labels</c>.</summary>
    public static PreprocessingSettings Parse(string json, string source, string baseDirectory)
    {
        JsonDocument document;
        try { document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }); }
        catch (JsonException e) { throw new InvalidDataException($"{source} is not valid JSON: {e.Message}"); }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{source} must hold one JSON object with the keys {string.Join(", ", Keys)}");
            var settings = new PreprocessingSettings(source);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                var value = property.Value;
                string Bad(string expected) => $"{settings.Describe(property.Name)} must be {expected}, got {DisplayText.Quote(value.GetRawText(), 60)}";
                settings = property.Name switch
                {
                    "channel_order" => settings with
                    {
                        ChannelOrder = (value.ValueKind == JsonValueKind.String ? value.GetString()!.ToLowerInvariant() : null) is ("rgb" or "bgr") and var order ? order
                            : throw new InvalidDataException(Bad("\"rgb\" or \"bgr\"")),
                    },
                    "scale" => settings with { Scale = Number(value) is > 0 and var scale ? scale : throw new InvalidDataException(Bad("a positive number (1 for [0,1] pixels, 255 for raw 0–255 values)")) },
                    "mean" => settings with { Mean = PerChannel(value) ?? throw new InvalidDataException(Bad("an array of numbers (one per channel), \"imagenet\" or \"none\"")) },
                    "std" => settings with { Std = PerChannel(value) ?? throw new InvalidDataException(Bad("an array of numbers (one per channel), \"imagenet\" or \"none\"")) },
                    "input_size" => settings with { InputSize = Positive(value) ?? throw new InvalidDataException(Bad("a positive whole number of pixels")) },
                    "resize" => settings with { Resize = Positive(value) ?? throw new InvalidDataException(Bad("a positive whole number of pixels")) },
                    "labels" => settings with { Labels = LabelsPath(value, baseDirectory, settings.Describe("labels")) ?? throw new InvalidDataException(Bad("the label file's path, relative to this file's folder")) },
                    _ => throw new InvalidDataException($"{source} has an unknown key \"{DisplayText.Quote(property.Name, 40)}\" (known: {string.Join(", ", Keys)})"),
                };
            }
            return settings;
        }
    }

    /// <summary>An array of finite numbers as "a,b,c", or the words imagenet / none; null for anything else.</summary>
    private static string? PerChannel(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.String) return value.GetString() is "imagenet" or "none" ? value.GetString() : null;
        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() == 0) return null;
        var numbers = new List<string>();
        foreach (var item in value.EnumerateArray())
        {
            if (Number(item) is not { } number) return null;
            numbers.Add(number.ToString("R", CultureInfo.InvariantCulture));
        }
        return string.Join(",", numbers);
    }

    /// <summary>A JSON number that is finite as a float32, else null.</summary>
    private static float? Number(JsonElement value) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out double d) && float.IsFinite((float)d) ? (float)d : null;

    /// <summary>A non-empty path string resolved against <paramref name="baseDirectory"/>; null when the value is not one. The file must exist.</summary>
    private static string? LabelsPath(JsonElement value, string baseDirectory, string where)
    {
        if (value.ValueKind != JsonValueKind.String || value.GetString() is not { Length: > 0 } relative) return null;
        var path = Path.Combine(baseDirectory, relative);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{where}: label file '{path}' not found");
    }

    private static int? Positive(JsonElement value) => value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int n) && n > 0 ? n : null;

    /// <summary>
    /// The sidecar for <paramref name="preprocessing"/> as it was resolved (every value explicit, mean and std as numbers),
    /// with <paramref name="labels"/> relative to <paramref name="sidecarPath"/>'s folder.
    /// </summary>
    public static string Serialize(Preprocessing preprocessing, string? labels, string sidecarPath)
    {
        var options = new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        var entries = new List<(string Key, object Value)>
        {
            ("channel_order", preprocessing.Bgr ? "bgr" : "rgb"), ("scale", preprocessing.Scale),
            ("mean", preprocessing.Mean), ("std", preprocessing.Std), ("input_size", preprocessing.Size),
        };
        if (preprocessing.Resize != preprocessing.Size) entries.Add(("resize", preprocessing.Resize));
        if (labels is not null)
            entries.Add(("labels", Path.GetRelativePath(Path.GetDirectoryName(Path.GetFullPath(sidecarPath))!, Path.GetFullPath(labels))));
        // One key a line, each value compact: "mean": [0.485,0.456,0.406].
        return "{\n" + string.Join(",\n", entries.Select(e => $"  \"{e.Key}\": {JsonSerializer.Serialize(e.Value, options)}")) + "\n}\n";
    }

    /// <summary>Writes the sidecar atomically (PATH.tmp, then renamed).</summary>
    public static void Save(string sidecarPath, Preprocessing preprocessing, string? labels) =>
        AtomicFile.WriteAllText(sidecarPath, Serialize(preprocessing, labels, sidecarPath));
}
