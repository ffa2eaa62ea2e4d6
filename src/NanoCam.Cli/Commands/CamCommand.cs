using NanoCam.Nn.Models;
using System.CommandLine;
using NanoCam.Cli.Shared;
using NanoCam.Explain;
using NanoCam.Explain.Methods;
using NanoCam.Imaging;

namespace NanoCam.Cli.Commands;

/// <summary><c>nanocam cam</c>: the class activation map M_c(x,y) = Σ_k w_k^c A_k(x,y) of one image, as an overlay PNG.</summary>
public static class CamCommand
{
    public static Command Create()
    {
        var model = CliOptions.Path("--model", "checkpoint (.safetensors with its .json beside it)", PathRole.Checkpoint, required: true);
        var image = CliOptions.Path("--image", "image file (PNG, JPEG, BMP); resized to the model's input", PathRole.InputFile, required: true);
        var cls = CliOptions.Make<int?>("--class", "class to explain (default: the top prediction)", null);
        var output = CliOptions.Path("--out", "overlay PNG to write", PathRole.OutputFile, "cam.png");
        var saveMap = CliOptions.Path("--save-map", "also write the map as .npy (float32, H×W at the input resolution, min–max scaled to [0,1])", PathRole.OutputFile);
        var colormap = CliOptions.ColorMap();
        var threads = CliOptions.Threads();
        var device = CliOptions.Device();
        var command = new Command("cam", "Class activation map (Zhou et al. 2016) of a GAP-CNN for one image") { model, image, cls, output, saveMap, colormap, threads, device };
        command.SetAction(p => CliRunner.Guard(() =>
        {
            var trained = TrainedModel.Load(p.GetValue(model)!);
            if (trained.Model is not GapCnn)
            {
                string denseTarget = trained.Model is SegmentationFcn ? "segmentation:K" : "box:X1,Y1,X2,Y2";
                throw new ArgumentException($"cam needs a GAP → FC head (CAM weighs the last feature maps by the classifier's weights); this {trained.Metadata.Architecture} has a dense output: "
                    + $"use nanocam explain --method gradcam --target {denseTarget}");
            }
            var (input, resized) = ImageInput.Load(p.GetValue(image)!, trained.Metadata);
            var kernels = Backends.Create(p.GetValue(device)!, p.GetValue(threads));
            trained.Network.MoveTo(kernels);
            var explainer = new CamExplainer(new ModuleExplainable(trained.Network, trained.Metadata.Classes), kernels);
            var target = p.GetValue(cls) is { } k ? CamTarget.Class(k) : CamTarget.TopPrediction();
            var colormapName = p.GetValue(colormap)!;
            ColorMaps.Get(colormapName); // validate before computing
            var result = explainer.Explain(new Cam(), input, target);
            foreach (var warning in explainer.Warnings) Console.Error.WriteLine($"nanocam: warning: {warning}");
            Console.WriteLine("top-5:");
            Predictions.PrintTopK(result.Capture.Scores.AsSpan(0, result.Capture.Classes), trained.Metadata.Classes);
            int c = result.Capture.TargetClasses[0];
            var map = result.NormalizedOf(0).ToArray();
            ImageCodec.SavePng(CamRendering.Overlay(resized, map, result.InputWidth, result.InputHeight, colormapName, scale: resized.Width < 128 ? 4 : 1), p.GetValue(output)!);
            if (p.GetValue(saveMap) is { } npy) Npy.Write(npy, map, [result.InputHeight, result.InputWidth]);
            Console.WriteLine($"CAM of class {c} ({trained.Metadata.Classes[c]}) written to {p.GetValue(output)}");
            return 0;
        }));
        return command;
    }
}
