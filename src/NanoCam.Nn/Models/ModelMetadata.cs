using System.Text.Json;
using System.Text.Json.Serialization;

namespace NanoCam.Nn.Models;

/// <summary>
/// The small JSON written beside a checkpoint (CKPT.json next to CKPT.safetensors): what is needed to rebuild the
/// network and feed it an image — architecture, input size, class names, normalization — and how it was trained.
/// </summary>
public sealed record ModelMetadata
{
    [JsonPropertyName("arch")] public required string Architecture { get; init; }
    [JsonPropertyName("input_channels")] public required int InputChannels { get; init; }
    [JsonPropertyName("input_height")] public required int InputHeight { get; init; }
    [JsonPropertyName("input_width")] public required int InputWidth { get; init; }
    [JsonPropertyName("classes")] public required string[] Classes { get; init; }
    [JsonPropertyName("mean")] public required float[] Mean { get; init; }
    [JsonPropertyName("std")] public required float[] Std { get; init; }
    [JsonPropertyName("data")] public string? Data { get; init; }
    [JsonPropertyName("epoch")] public int Epoch { get; init; }
    [JsonPropertyName("accuracy")] public double? Accuracy { get; init; }
    [JsonPropertyName("seed")] public int Seed { get; init; }
    /// <summary>λ of CAM fostering the network was trained with (<c>train --foster-cam</c>); absent when it was not fostered.</summary>
    [JsonPropertyName("foster_cam"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public float? FosterCam { get; init; }

    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    /// <summary>The JSON path for a checkpoint path: model.safetensors → model.json.</summary>
    public static string PathFor(string checkpointPath) => Path.ChangeExtension(checkpointPath, ".json");

    public void Save(string path)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(this, Options));
        File.Move(temp, path, overwrite: true);
    }

    public static ModelMetadata Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"model description '{path}' not found (it is written beside the .safetensors checkpoint)");
        try
        {
            var m = JsonSerializer.Deserialize<ModelMetadata>(File.ReadAllText(path), Options)
                ?? throw new InvalidDataException($"model description '{path}' is empty");
            if (m.Classes.Length == 0 || m.Mean.Length != m.InputChannels || m.Std.Length != m.InputChannels)
                throw new InvalidDataException($"model description '{path}': needs classes and one mean/std per input channel ({m.InputChannels})");
            return m;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"model description '{path}' is not valid JSON: {e.Message}");
        }
    }
}
