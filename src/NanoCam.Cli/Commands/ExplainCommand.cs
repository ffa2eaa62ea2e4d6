using System.CommandLine;
using NanoCam.Cli.Shared;
using NanoCam.Explain;
using NanoCam.Explain.Methods;
using NanoCam.Imaging;

namespace NanoCam.Cli.Commands;

/// <summary><c>nanocam explain</c>: any CAM-family method, Guided Backprop or Guided Grad-CAM, on a NanoCam checkpoint or an ONNX model.</summary>
public static class ExplainCommand
{
    public static readonly string[] GuidedMethods = ["guided-backprop", "guided-gradcam"];

    public static IEnumerable<string> AllMethods => CamMethods.Names.Concat(GuidedMethods);

    public static Command Create()
    {
        var model = CliOptions.Required<string>("--model", "a NanoCam checkpoint (.safetensors) or an .onnx file");
        var image = CliOptions.Make<string?>("--image", "image file to explain", null);
        var input = CliOptions.Make<string?>("--input", "a ready 1×C×H×W float32 tensor (.npy), no preprocessing", null);
        var method = CliOptions.Make("--method", $"one of: {string.Join(", ", AllMethods)}, or all", "gradcam");
        var layer = CliOptions.Make<string?>("--layer", "target layer (see `nanocam layers`; default: the last spatial layer)", null);
        var cls = CliOptions.Make<int?>("--class", "class to explain (default: the top prediction)", null);
        var output = CliOptions.Make("--out", "overlay PNG to write", "explanation.png");
        var saveMap = CliOptions.Make<string?>("--save-map", "write the map as float32 .npy: H×W in [0,1] for the CAM family, C×H×W raw for guided methods", null);
        var raw = CliOptions.Make("--raw", "keep the map unnormalized (ReLU'd and upsampled, not min–max scaled) in --save-map", false);
        var augment = CliOptions.Make("--aug-smooth", "test-time augmentation: average with the horizontally flipped image's map", false);
        var eigen = CliOptions.Make("--eigen-smooth", "replace the weighted sum by its first principal component", false);
        var colormap = CliOptions.Make("--colormap", $"colour map: {string.Join(", ", ColorMaps.Names)}", "jet");
        var labels = CliOptions.Make<string?>("--labels", "class names, one per line (or a JSON array), for ONNX models", null);
        var threads = CliOptions.Threads();
        var device = CliOptions.Device();
        var preprocessing = new Preprocessing.Options();
        var command = new Command("explain", "Explain a prediction with a CAM-family method (Grad-CAM and family, Guided Backprop)")
        {
            model, image, input, method, layer, cls, output, saveMap, raw, augment, eigen, colormap, labels, threads, device,
        };
        preprocessing.AddTo(command);
        command.SetAction(p => CliRunner.Guard(() =>
        {
            string methodName = p.GetValue(method)!;
            bool all = methodName == "all";
            if (!all && !AllMethods.Contains(methodName))
                throw new ArgumentException($"unknown method '{methodName}' (known: {string.Join(", ", AllMethods)}, all)");
            var colormapName = p.GetValue(colormap)!;
            var colors = ColorMaps.Get(colormapName);
            Backends.RequireHostForOnnx(p.GetValue(model)!, p.GetValue(device)!);
            var kernels = Backends.Create(p.GetValue(device)!, p.GetValue(threads));
            var loaded = LoadedModel.Open(p.GetValue(model)!, p.GetValue(labels), preprocessing, p);
            if (loaded.Explainable is ModuleExplainable module) module.Model.MoveTo(kernels);
            var (tensor, shown) = ReadInput(loaded, p.GetValue(image), p.GetValue(input));
            var explainer = new CamExplainer(loaded.Explainable, kernels);
            var target = p.GetValue(cls) is { } k ? CamTarget.Class(k) : CamTarget.TopPrediction();
            string layerName = p.GetValue(layer) ?? loaded.Explainable.DefaultLayer;
            var options = new ExplainOptions(p.GetValue(raw), p.GetValue(augment), p.GetValue(eigen));
            var scores = explainer.ScoresOf(tensor);
            Console.WriteLine("top-5:");
            Predictions.PrintTopK(scores, loaded.Explainable.ClassNames);
            int targetClass = target.ClassFor(0, scores);
            string className = loaded.Explainable.ClassNames is { } names ? $" ({names[targetClass]})" : "";

            if (all)
            {
                var panels = new List<RgbImage> { shown };
                foreach (var name in AllMethods)
                {
                    var (panel, _, _) = Run(explainer, name, tensor, shown, target, layerName, options, colors);
                    panels.Add(panel);
                    Console.WriteLine($"  {name}");
                }
                ImageCodec.SavePng(Montage.Grid(panels, 5), p.GetValue(output)!);
                Console.WriteLine($"every method for class {targetClass}{className} at layer '{layerName}' written to {p.GetValue(output)} (first panel: the input; then {string.Join(", ", AllMethods)})");
                return 0;
            }
            var (overlay, map, mapShape) = Run(explainer, methodName, tensor, shown, target, layerName, options, colors);
            foreach (var warning in explainer.Warnings) Console.Error.WriteLine($"nanocam: warning: {warning}");
            ImageCodec.SavePng(overlay, p.GetValue(output)!);
            if (p.GetValue(saveMap) is { } npy) Npy.Write(npy, map, mapShape);
            Console.WriteLine($"{methodName} for class {targetClass}{className} at layer '{layerName}' written to {p.GetValue(output)}");
            return 0;
        }));
        return command;
    }

    private static (Tensor, RgbImage) ReadInput(LoadedModel loaded, string? image, string? input)
    {
        if ((image is null) == (input is null)) throw new ArgumentException("give exactly one of --image and --input");
        if (image is not null) return loaded.Prepare(ImageCodec.Load(image));
        var tensor = loaded.LoadInput(input!);
        // Show the tensor itself, min–max scaled per image, as the background of the overlay.
        var values = tensor.ToArray();
        float min = values.Min(), max = values.Max();
        var scaled = values.Select(v => max > min ? (v - min) / (max - min) : 0f).ToArray();
        return (tensor, RgbImage.FromPlanar(scaled, tensor.Shape[1] is 1 or 3 ? tensor.Shape[1] : 1, tensor.Shape[2], tensor.Shape[3]));
    }

    /// <summary>Runs one method; returns the overlay, the map to save and its shape.</summary>
    private static (RgbImage Overlay, float[] Map, int[] Shape) Run(CamExplainer explainer, string name, Tensor input, RgbImage shown,
        CamTarget target, string layer, ExplainOptions options, ColorMap colors)
    {
        int h = input.Shape[2], w = input.Shape[3];
        if (name == "guided-backprop" || name == "guided-gradcam")
        {
            var values = name == "guided-backprop"
                ? GuidedBackprop.Explain(explainer, input, target)
                : GuidedGradCam.Explain(explainer, input, target, layer).Values;
            var map = values.Of(0).ToArray();
            return (GradientImage(map, values.Channels, h, w), map, [values.Channels, h, w]);
        }
        var result = explainer.Explain(CamMethods.Create(name), input, target, layer, options);
        var normalized = result.NormalizedOf(0).ToArray();
        var saved = options.Raw ? result.UpsampledOf(0).ToArray() : normalized;
        return (Overlay.Blend(shown, normalized, w, h, colors), saved, [h, w]);
    }

    /// <summary>Gradients as an image, the usual way: centre at grey, scale by 3 standard deviations.</summary>
    private static RgbImage GradientImage(float[] chw, int channels, int h, int w)
    {
        double mean = chw.Average(), std = Math.Sqrt(chw.Select(v => (v - mean) * (v - mean)).Average());
        var scaled = chw.Select(v => (float)Math.Clamp(0.5 + (v - mean) / (6 * std + 1e-12), 0, 1)).ToArray();
        return RgbImage.FromPlanar(scaled, channels is 1 or 3 ? channels : 1, h, w);
    }
}
