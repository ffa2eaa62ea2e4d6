using NanoCam.Nn.Checkpoints;

namespace NanoCam.Nn.Models;

/// <summary>A trained NanoCam model on disk: CKPT.safetensors (weights) beside CKPT.json (architecture, classes, normalization).</summary>
public sealed record TrainedModel(GapCnn Network, ModelMetadata Metadata)
{
    public static TrainedModel Load(string checkpointPath)
    {
        if (!File.Exists(checkpointPath)) throw new FileNotFoundException($"model '{checkpointPath}' not found");
        var metadata = ModelMetadata.Load(ModelMetadata.PathFor(checkpointPath));
        var network = Architectures.Create(metadata.Architecture, metadata.InputChannels, metadata.Classes.Length, metadata.Seed);
        Checkpoint.Load(network, checkpointPath);
        return new TrainedModel(network, metadata);
    }

    /// <summary>Writes the weights and then the description, each atomically.</summary>
    public void Save(string checkpointPath)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(checkpointPath))!;
        Directory.CreateDirectory(directory);
        Checkpoint.Save(Network, checkpointPath, new Dictionary<string, string> { ["arch"] = Metadata.Architecture, ["format"] = "nanocam" });
        Metadata.Save(ModelMetadata.PathFor(checkpointPath));
    }
}
