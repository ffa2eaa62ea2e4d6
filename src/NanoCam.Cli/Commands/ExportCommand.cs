using System.CommandLine;
using NanoCam.Cli.Shared;
using NanoCam.Onnx.Training;

namespace NanoCam.Cli.Commands;

/// <summary><c>nanocam export</c>: a graph checkpoint (train --init) as an .onnx file with the trained weights.</summary>
public static class ExportCommand
{
    /// <summary>The verb with its options.</summary>
    public static Command Create()
    {
        var model = CliOptions.Path("--model", "graph checkpoint written by train --init (.safetensors)", PathRole.Model, required: true);
        var output = CliOptions.Path("--out", ".onnx file to write", PathRole.OutputFile, required: true);
        var command = new Command("export", "Write a fine-tuned imported network (train --init) as ONNX, its weights trained, its preprocessing and classes in metadata_props")
        {
            model, output,
        };
        command.SetAction(p => CliRunner.Guard(() =>
        {
            var path = p.GetValue(model)!;
            if (!GraphCheckpoint.IsGraphCheckpoint(path))
                throw new ArgumentException($"--model '{path}' is not a graph checkpoint: export takes what train --init writes (a NanoCam architecture has no ONNX export)");
            var (graph, info) = GraphCheckpoint.Load(path);
            var outPath = p.GetValue(output)!;
            graph.Save(outPath, info.MetadataProps());
            Console.WriteLine($"wrote {outPath} ({graph.Parameters.Count} weight tensors from epoch {info.Epoch}, opset {graph.Opset}, {info.Classes.Length} classes)");
            return 0;
        }));
        return command;
    }
}
