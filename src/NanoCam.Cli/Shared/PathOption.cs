using System.CommandLine;
using NanoCam.Nn.Models;

namespace NanoCam.Cli.Shared;

/// <summary>What a path option names, and so what it must be before a verb starts.</summary>
public enum PathRole
{
    /// <summary>A file to read (an image, a tensor, a label list).</summary>
    InputFile,

    /// <summary>A file to read, or a folder of such files (predict's --image).</summary>
    InputFileOrFolder,

    /// <summary>A model to read: a NanoCam checkpoint (.safetensors with its .json) or an .onnx file.</summary>
    Model,

    /// <summary>A NanoCam checkpoint only (.safetensors with its .json).</summary>
    Checkpoint,

    /// <summary>A file to write (it may exist; it must not be a folder).</summary>
    OutputFile,

    /// <summary>A folder to write into (it may exist; it must not be a file).</summary>
    OutputFolder,
}

/// <summary>
/// A string option that names a file or folder. <see cref="CliRunner"/> checks every one of them before the verb runs,
/// so a folder given for a file, a missing file or a file of the wrong kind gets one line in our words and nothing is written.
/// </summary>
public sealed class PathOption(string name, PathRole role) : Option<string?>(name)
{
    /// <summary>The kinds of model the command line accepts, as the messages name them.</summary>
    public const string CheckpointKind = "a NanoCam checkpoint (.safetensors with its .json beside it)";

    public PathRole Role { get; } = role;

    /// <summary>Refuses <paramref name="path"/> with an <see cref="ArgumentException"/> in our words when it cannot serve as this option's <see cref="Role"/>.</summary>
    public void Check(string path, string verb)
    {
        if (path.Length == 0) throw new ArgumentException($"{Name} is empty: give a {(Role == PathRole.OutputFolder ? "folder" : "file")}");
        switch (Role)
        {
            case PathRole.InputFile:
                CheckReadable(path);
                break;
            case PathRole.InputFileOrFolder:
                if (!Directory.Exists(path)) CheckReadable(path);
                break;
            case PathRole.Model or PathRole.Checkpoint:
                CheckReadable(path);
                CheckModelKind(path, verb);
                break;
            case PathRole.OutputFile:
                if (Directory.Exists(path)) throw new ArgumentException($"{Name} '{path}' is a folder: give the name of a file to write");
                CheckAncestorsAreFolders(path);
                break;
            case PathRole.OutputFolder:
                if (File.Exists(path)) throw new ArgumentException($"{Name} '{path}' is a file: give a folder to write into");
                CheckAncestorsAreFolders(path);
                break;
        }
    }

    private void CheckReadable(string path) => CheckReadable(path, Name);

    /// <summary>
    /// <paramref name="path"/> when it is a file that can be opened for reading; otherwise an <see cref="ArgumentException"/>
    /// of one line that starts with <paramref name="name"/> (a folder, a missing file, no permission).
    /// </summary>
    public static string CheckReadable(string path, string name)
    {
        if (Directory.Exists(path)) throw new ArgumentException($"{name} '{path}' is a folder: give a file");
        if (!File.Exists(path)) throw new ArgumentException($"{name} '{path}' not found");
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        }
        catch (UnauthorizedAccessException)
        {
            throw new ArgumentException($"{name} '{path}' cannot be read: permission denied");
        }
        catch (IOException)
        {
            throw new ArgumentException($"{name} '{path}' cannot be read");
        }
        return path;
    }

    /// <summary>
    /// .onnx is an ONNX model, and so is a graph checkpoint (a .safetensors whose metadata holds the graph); any other file with
    /// CKPT.json beside it is a checkpoint; anything else is refused, naming what is accepted.
    /// </summary>
    private void CheckModelKind(string path, string verb)
    {
        bool onnx = path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase);
        string accepted = Role == PathRole.Model ? $"{CheckpointKind} or an .onnx file" : CheckpointKind;
        if (onnx)
        {
            if (Role == PathRole.Model) return;
            throw new ArgumentException($"{Name} '{path}' is an ONNX model, and {verb} takes {CheckpointKind}; explain, predict, layers and walkthrough take .onnx files");
        }
        if (Onnx.Training.GraphCheckpoint.IsGraphCheckpoint(path))
        {
            if (Role == PathRole.Model) return;
            throw new ArgumentException($"{Name} '{path}' is a fine-tuned ONNX graph (train --init), and {verb} takes {CheckpointKind}; explain, predict, layers and walkthrough take it, and export turns it into an .onnx file");
        }
        string description = ModelMetadata.PathFor(path);
        if (File.Exists(description)) return;
        if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"{Name} '{path}' has no model description '{description}' beside it (train writes both files; keep them together)");
        throw new ArgumentException($"{Name} '{path}' is not a model: give {accepted}");
    }

    /// <summary>A file or folder can be created only where every existing ancestor is a folder.</summary>
    private void CheckAncestorsAreFolders(string path)
    {
        for (var parent = Path.GetDirectoryName(Path.GetFullPath(path)); !string.IsNullOrEmpty(parent); parent = Path.GetDirectoryName(parent))
        {
            if (Directory.Exists(parent)) return;
            if (File.Exists(parent)) throw new ArgumentException($"{Name} '{path}' cannot be written: '{parent}' is a file, not a folder");
        }
    }
}
