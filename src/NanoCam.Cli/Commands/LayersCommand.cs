using NanoCam.Nn.Models;
using System.CommandLine;
using NanoCam.Autodiff;
using NanoCam.Cli.Shared;
using NanoCam.Explain;
using Spectre.Console;

namespace NanoCam.Cli.Commands;

/// <summary><c>nanocam layers</c>: every named tensor of a model with its output shape (the names --layer accepts).</summary>
public static class LayersCommand
{
    public static Command Create()
    {
        var model = CliOptions.Model();
        var every = CliOptions.Make("--all", "list every tensor of an ONNX graph, not only the 4-D ones a CAM can target", false);
        var command = new Command("layers", "List a model's layers with their output shapes (the names --layer accepts)") { model, every };
        command.SetAction(p => CliRunner.Guard(() =>
        {
            var path = p.GetValue(model)!;
            var table = new Table().AddColumns("layer", "kind", "output shape", "spatial");
            string? denseLine = null;
            bool graphCheckpoint = Onnx.Training.GraphCheckpoint.IsGraphCheckpoint(path);
            if (path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) || graphCheckpoint)
            {
                var onnx = graphCheckpoint ? Onnx.Training.GraphCheckpoint.Load(path).Model : Onnx.OnnxModel.Load(path);
                var explainable = new OnnxExplainable(onnx, null);
                bool all = p.GetValue(every);
                table = new Table().AddColumns("layer (ONNX tensor)", "PyTorch module", "node", "output shape");
                foreach (var layer in onnx.DescribeLayers())
                    for (int i = 0; i < layer.Outputs.Count; i++)
                    {
                        var shape = layer.OutputShapes[i];
                        bool tokens = explainable.DefaultTokenLayer is not null && shape is { Length: 3 };
                        if (!all && shape is not { Length: 4 } && !tokens) continue;
                        var modules = string.Join(", ", onnx.ModulePaths.ModulesOf(layer.Outputs[i]));
                        table.AddRow(Markup.Escape(layer.Outputs[i]), Markup.Escape(modules), $"{layer.OpType} ({Markup.Escape(layer.Name)})",
                            shape is null ? "?" : Markup.Escape($"[{string.Join(", ", shape)}]"));
                    }
                AnsiConsole.Write(table);
                var batch = onnx.Batch;
                Console.WriteLine($"input: {onnx.Inputs[0]}");
                Console.WriteLine(batch.Independent ? $"batch: N images in one pass ({batch.Reason})" : $"batch: image by image ({batch.Reason})");
                Console.WriteLine($"fusions at load (no-grad passes; --no-fuse runs every node plainly): {onnx.Fusions}");
                var modulesOfDefault = onnx.ModulePaths.ModulesOf(explainable.DefaultLayer);
                bool transformer = explainable.DefaultLayer == explainable.DefaultTokenLayer;
                Console.WriteLine($"default layer: {explainable.DefaultLayer}{(modulesOfDefault.Count > 0 ? $" (module {string.Join(", ", modulesOfDefault)})" : "")}: "
                    + (transformer ? "the last block's first LayerNormalization before the last attention (explain it with --reshape-tokens)" : "the last 4-D tensor with more than one channel and more than one spatial cell on the way to the class scores"));
                Console.WriteLine("--layer takes a tensor name or a module path" + (all ? "" : "; --all lists every tensor"));
                return 0;
            }
            else
            {
                var trained = TrainedModel.Load(path);
                var m = trained.Metadata;
                var tape = new Tape(new Cpu.Simd.SimdKernels(1)) { GradEnabled = false };
                var output = trained.Model.Call(tape, Tensor.Zeros(1, m.InputChannels, m.InputHeight, m.InputWidth));
                var kinds = trained.Model.Modules().Where(x => x.Path.Length > 0).ToDictionary(x => x.Path, x => x.ToString());
                foreach (var (name, tensor) in tape.Named)
                    table.AddRow(Markup.Escape(name), Markup.Escape(kinds.GetValueOrDefault(name, "")), Markup.Escape(tensor.Shape.ToString()), tensor.Shape.Rank == 4 ? "yes" : "");
                if (trained.Model is IDenseModel dense)
                    denseLine = $"output: {output.Shape}, " + (dense is SegmentationFcn ? "per-pixel class logits (the classes, then background)" : "decoded boxes [cx, cy, w, h, objectness, class probabilities…]")
                        + $"; default layer {dense.DefaultLayer}; explain it with --target {(dense is SegmentationFcn ? "segmentation:K" : "box:X1,Y1,X2,Y2")}";
            }
            AnsiConsole.Write(table);
            if (denseLine is not null) Console.WriteLine(denseLine);
            return 0;
        }));
        return command;
    }
}
