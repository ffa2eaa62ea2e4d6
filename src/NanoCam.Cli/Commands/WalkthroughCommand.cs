using System.CommandLine;
using NanoCam.Cli.Shared;
using NanoCam.Explain;
using NanoCam.Imaging;

namespace NanoCam.Cli.Commands;

/// <summary>
/// <c>nanocam walkthrough</c>: one self-contained HTML page that shows a CAM or Grad-CAM explanation step by step —
/// input, feature maps A^k, channel weights, weighted sum before and after ReLU, upsampling, overlay, and on a GAP
/// network CAM beside Grad-CAM and the class score rebuilt from the maps.
/// </summary>
public static class WalkthroughCommand
{
    public static Command Create()
    {
        var model = CliOptions.Model();
        var image = CliOptions.Path("--image", "image file (PNG, JPEG, BMP)", PathRole.InputFile, required: true);
        var cls = CliOptions.Make<int?>("--class", "class to explain (default: the top prediction)", null);
        var method = CliOptions.Make("--method", "cam or gradcam", "cam");
        var layer = CliOptions.Make<string?>("--layer", "target layer (see `nanocam layers`; default: the layer before the GAP classifier, else the last spatial layer)", null);
        var output = CliOptions.Path("--out", "directory to write index.html into", PathRole.OutputFolder, "walkthrough");
        var colormap = CliOptions.ColorMap();
        var labels = CliOptions.Labels();
        var threads = CliOptions.Threads();
        var preprocessing = new PreprocessingOptions();
        var command = new Command("walkthrough", "Write a page that walks through CAM or Grad-CAM step by step, every intermediate shown")
        {
            model, image, cls, method, layer, output, colormap, labels, threads,
        };
        preprocessing.AddTo(command);
        command.SetAction(p => CliRunner.Guard(() =>
        {
            string methodName = p.GetValue(method)!;
            if (!CamWalkthrough.Methods.Contains(methodName))
                throw new ArgumentException($"--method must be cam or gradcam, got '{methodName}' (the other methods: nanocam explain)");
            var colors = ColorMaps.Get(p.GetValue(colormap)!);
            string modelPath = p.GetValue(model)!, imagePath = p.GetValue(image)!;
            var loaded = LoadedModel.Open(modelPath, p.GetValue(labels), preprocessing, p);
            CamWalkthrough.CheckMethod(loaded.Explainable, methodName);
            var (input, shown) = loaded.Prepare(ImageCodec.Load(imagePath));
            var explainer = new CamExplainer(loaded.Explainable, Backends.Create("cpu", p.GetValue(threads)));
            var target = p.GetValue(cls) is { } k ? CamTarget.Class(k) : CamTarget.TopPrediction();
            var walk = CamWalkthrough.Run(explainer, input, methodName, target, p.GetValue(layer));
            foreach (var warning in walk.Warnings) Console.Error.WriteLine($"nanocam: warning: {warning}");

            var page = WalkthroughPage.Build(walk, shown, input.Shape, loaded.Explainable.ClassNames, Path.GetFileName(modelPath), Path.GetFileName(imagePath), colors,
                loaded.Metadata?.FosterCam);
            string pagePath = Path.Combine(p.GetValue(output)!, "index.html");
            page.Save(pagePath); // PATH.tmp, then renamed
            Console.WriteLine($"{methodName} walk-through of class {walk.Class} at layer '{walk.Layer}' written to {pagePath}");
            if (walk.Score is { } score)
                Console.WriteLine($"y^c recomputed from the maps {WalkthroughFigures.Number(score.Recomputed)}, network {WalkthroughFigures.Number(score.NetworkScore)}");
            return 0;
        }));
        return command;
    }
}
