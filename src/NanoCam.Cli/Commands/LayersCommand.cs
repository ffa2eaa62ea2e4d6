using System.CommandLine;
using NanoCam.Autodiff;
using NanoCam.Cli.Shared;
using Spectre.Console;

namespace NanoCam.Cli.Commands;

/// <summary><c>nanocam layers</c>: every named tensor of a model with its output shape (the names --layer accepts).</summary>
public static class LayersCommand
{
    public static Command Create()
    {
        var model = CliOptions.Required<string>("--model", "a NanoCam checkpoint (.safetensors) or an .onnx file");
        var command = new Command("layers", "List a model's layers with their output shapes") { model };
        command.SetAction(p => CliRunner.Guard(() =>
        {
            var path = p.GetValue(model)!;
            var table = new Table().AddColumns("layer", "kind", "output shape", "spatial");
            if (path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
            {
                var onnx = Onnx.OnnxModel.Load(path);
                foreach (var layer in onnx.DescribeLayers())
                    for (int i = 0; i < layer.Outputs.Count; i++)
                    {
                        var shape = layer.OutputShapes[i];
                        table.AddRow(Markup.Escape(layer.Outputs[i]), $"{layer.OpType} ({Markup.Escape(layer.Name)})", shape is null ? "?" : Markup.Escape($"[{string.Join(", ", shape)}]"), shape is { Length: 4 } ? "yes" : "");
                    }
            }
            else
            {
                var trained = TrainedModel.Load(path);
                var m = trained.Metadata;
                var tape = new Tape(new Cpu.Simd.SimdKernels(1)) { GradEnabled = false };
                trained.Network.Call(tape, Tensor.Zeros(1, m.InputChannels, m.InputHeight, m.InputWidth));
                var kinds = trained.Network.Modules().Where(x => x.Path.Length > 0).ToDictionary(x => x.Path, x => x.ToString());
                foreach (var (name, tensor) in tape.Named)
                    table.AddRow(Markup.Escape(name), Markup.Escape(kinds.GetValueOrDefault(name, "")), Markup.Escape(tensor.Shape.ToString()), tensor.Shape.Rank == 4 ? "yes" : "");
            }
            AnsiConsole.Write(table);
            return 0;
        }));
        return command;
    }
}
