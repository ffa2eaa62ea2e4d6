using NanoCam.Nn.Checkpoints;
using NanoCam.Nn.Modules;

namespace NanoCam.Nn.Models;

/// <summary>A trained NanoCam model on disk: CKPT.safetensors (weights) beside CKPT.json (architecture, classes, normalization).</summary>
public sealed record TrainedModel(Module Model, ModelMetadata Metadata)
{
    /// <summary>The model as a GAP-CNN classifier; a dense-output model (seg-fcn, det-grid) is refused with one line.</summary>
    public GapCnn Network => Model as GapCnn
        ?? throw new ArgumentException($"this model is a {Metadata.Architecture} (a dense output: segmentation maps or boxes); this needs a classifier");

    public static TrainedModel Load(string checkpointPath)
    {
        if (!File.Exists(checkpointPath)) throw new FileNotFoundException($"model '{checkpointPath}' not found");
        var metadata = ModelMetadata.Load(ModelMetadata.PathFor(checkpointPath));
        var network = Architectures.CreateNetwork(metadata.Architecture, metadata.InputChannels, metadata.Classes.Length, metadata.Seed);
        Checkpoint.Load(network, checkpointPath);
        return new TrainedModel(network, metadata);
    }

    /// <summary>Writes the weights and then the description, each atomically.</summary>
    public void Save(string checkpointPath)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(checkpointPath))!;
        Directory.CreateDirectory(directory);
        Checkpoint.Save(Model, checkpointPath, new Dictionary<string, string> { ["arch"] = Metadata.Architecture, ["format"] = "nanocam" });
        Metadata.Save(ModelMetadata.PathFor(checkpointPath));
    }
}
