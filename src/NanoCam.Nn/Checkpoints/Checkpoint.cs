using NanoCam.Nn.Modules;

namespace NanoCam.Nn.Checkpoints;

/// <summary>Saves a module's state dict to safetensors and loads one back, checking every name and shape.</summary>
public static class Checkpoint
{
    public static void Save(Module model, string path, IReadOnlyDictionary<string, string>? metadata = null) =>
        SafeTensors.Save(path, model.NamedParameters().Select(p => (p.Name, p.Parameter.Value)), metadata);

    /// <summary>
    /// Copies the checkpoint's tensors into the model's parameters. Every parameter must be present with its shape, and
    /// the file must hold nothing the model lacks; the first mismatch is reported with the tensor name and both shapes.
    /// </summary>
    public static Dictionary<string, string> Load(Module model, string path)
    {
        var (tensors, metadata) = SafeTensors.Load(path);
        var parameters = model.NamedParameters().ToList();
        foreach (var (name, parameter) in parameters)
        {
            if (!tensors.TryGetValue(name, out var stored))
                throw new InvalidDataException($"checkpoint '{path}' has no tensor '{name}' (the model expects {parameter.Value.Shape}); is it from another architecture?");
            if (stored.Shape != parameter.Value.Shape)
                throw new InvalidDataException($"checkpoint '{path}': tensor '{name}' has shape {stored.Shape} but the model expects {parameter.Value.Shape}");
        }
        var unexpected = tensors.Keys.Except(parameters.Select(p => p.Name)).ToList();
        if (unexpected.Count > 0)
            throw new InvalidDataException($"checkpoint '{path}' holds tensors the model lacks: {string.Join(", ", unexpected.Take(5))}{(unexpected.Count > 5 ? ", …" : "")}");
        foreach (var (name, parameter) in parameters) parameter.Value.Buffer.CopyFrom(tensors[name].Span);
        return metadata;
    }
}
