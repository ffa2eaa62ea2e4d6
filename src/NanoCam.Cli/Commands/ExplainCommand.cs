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
        var model = CliOptions.Path("--model", "a NanoCam checkpoint (.safetensors) or an .onnx file", PathRole.Model, required: true);
        var image = CliOptions.Path("--image", "image file to explain", PathRole.InputFile);
        var input = CliOptions.Path("--input", "a ready float32 tensor (.npy), no preprocessing: one image C×H×W or a batch N×C×H×W (one overlay per image: OUT_0.png, …)", PathRole.InputFile);
        var method = CliOptions.Make("--method", $"one of: {string.Join(", ", AllMethods)}, or all", "gradcam");
        var layer = CliOptions.Make<string?>("--layer", "target layer (see `nanocam layers`; default: the last spatial layer)", null);
        var cls = CliOptions.Make<int?>("--class", "class to explain (default: the top prediction)", null);
        var output = CliOptions.Path("--out", "overlay PNG to write", PathRole.OutputFile, "explanation.png");
        var saveMap = CliOptions.Path("--save-map", "write the map as float32 .npy: H×W in [0,1] for the CAM family, C×H×W raw for guided methods", PathRole.OutputFile);
        var raw = CliOptions.Make("--raw", "keep the map unnormalized (ReLU'd and upsampled, not min–max scaled) in --save-map", false);
        var augment = CliOptions.Make("--aug-smooth", "test-time augmentation: average with the horizontally flipped image's map", false);
        var eigen = CliOptions.Make("--eigen-smooth", "replace the weighted sum by its first principal component", false);
        var reshapeTokens = CliOptions.Make("--reshape-tokens", "a transformer layer's tokens [N, T, D] laid out on their square grid as [N, D, h, w], the class token dropped (pytorch-grad-cam's reshape_transform)", false);
        var colormap = CliOptions.Make("--colormap", $"colour map: {string.Join(", ", ColorMaps.Names)}", "jet");
        var labels = CliOptions.Path("--labels", "class names, one per line (or a JSON array), for ONNX models", PathRole.InputFile);
        var threads = CliOptions.Threads();
        var device = CliOptions.Device();
        var preprocessing = new Preprocessing.Options();
        var command = new Command("explain", "Explain a prediction with a CAM-family method (Grad-CAM and family, Guided Backprop)")
        {
            model, image, input, method, layer, cls, output, saveMap, raw, augment, eigen, reshapeTokens, colormap, labels, threads, device,
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
            var kernels = Backends.Create(p.GetValue(device)!, p.GetValue(threads));
            var loaded = LoadedModel.Open(p.GetValue(model)!, p.GetValue(labels), preprocessing, p);
            if (loaded.Explainable is ModuleExplainable module) module.Model.MoveTo(kernels);
            var (tensor, shown) = ReadInput(loaded, p.GetValue(image), p.GetValue(input));
            var explainer = new CamExplainer(loaded.Explainable, kernels) { ReshapeTokens = p.GetValue(reshapeTokens) };
            var target = p.GetValue(cls) is { } k ? CamTarget.Class(k) : CamTarget.TopPrediction();
            string layerName = loaded.Explainable.ResolveLayer(p.GetValue(layer) ?? loaded.Explainable.DefaultLayer);
            var options = new ExplainOptions(p.GetValue(raw), p.GetValue(augment), p.GetValue(eigen));
            int count = tensor.Shape[0], classes = loaded.Explainable.Classes;
            var scores = explainer.ScoresOf(tensor);
            var targets = new int[count];
            for (int n = 0; n < count; n++)
            {
                var row = scores.AsSpan(n * classes, classes);
                targets[n] = target.ClassFor(n, row);
                Console.WriteLine(count == 1 ? "top-5:" : $"image {n}: top-5:");
                Predictions.PrintTopK(row.ToArray(), loaded.Explainable.ClassNames);
            }
            string Named(int cls) => loaded.Explainable.ClassNames is { } names ? $" ({names[cls]})" : "";
            string outputPath = p.GetValue(output)!;
            string OutputFor(int n) => count == 1 ? outputPath
                : Path.Combine(Path.GetDirectoryName(outputPath) ?? "", $"{Path.GetFileNameWithoutExtension(outputPath)}_{n}{Path.GetExtension(outputPath)}");

            if (all)
            {
                var panels = Enumerable.Range(0, count).Select(n => new List<RgbImage> { shown[n] }).ToList();
                foreach (var name in AllMethods)
                {
                    var (overlays, _, _) = Run(explainer, name, tensor, shown, target, layerName, options, colors);
                    for (int n = 0; n < count; n++) panels[n].Add(overlays[n]);
                    Console.WriteLine($"  {name}");
                }
                for (int n = 0; n < count; n++)
                {
                    ImageCodec.SavePng(Montage.Labelled(panels[n], ["input", .. AllMethods], 5, $"{ClassLabels.Describe(targets[n], loaded.Explainable.ClassNames)}, layer '{layerName}'").Image, OutputFor(n));
                    Console.WriteLine($"every method for class {targets[n]}{Named(targets[n])} at layer '{layerName}' written to {OutputFor(n)} (first panel: the input; then {string.Join(", ", AllMethods)})");
                }
                return 0;
            }
            var (images, maps, mapShape) = Run(explainer, methodName, tensor, shown, target, layerName, options, colors);
            foreach (var warning in explainer.Warnings) Console.Error.WriteLine($"nanocam: warning: {warning}");
            for (int n = 0; n < count; n++)
            {
                ImageCodec.SavePng(images[n], OutputFor(n));
                Console.WriteLine($"{methodName} for class {targets[n]}{Named(targets[n])} at layer '{layerName}' written to {OutputFor(n)}");
            }
            if (p.GetValue(saveMap) is { } npy) Npy.Write(npy, maps, count == 1 ? mapShape : [count, .. mapShape]);
            return 0;
        }));
        return command;
    }

    private static (Tensor, RgbImage[]) ReadInput(LoadedModel loaded, string? image, string? input)
    {
        if ((image is null) == (input is null)) throw new ArgumentException("give exactly one of --image and --input");
        if (image is not null)
        {
            var (prepared, shown) = loaded.Prepare(ImageCodec.Load(image));
            return (prepared, [shown]);
        }
        var tensor = loaded.LoadInput(input!);
        // Show each image of the tensor itself, min–max scaled, as the background of its overlay.
        int count = tensor.Shape[0], channels = tensor.Shape[1], size = tensor.Size / count;
        var values = tensor.ToArray();
        var images = new RgbImage[count];
        for (int n = 0; n < count; n++)
        {
            var image_ = values.AsSpan(n * size, size);
            float min = float.MaxValue, max = float.MinValue;
            foreach (var v in image_) { min = Math.Min(min, v); max = Math.Max(max, v); }
            var scaled = new float[size];
            for (int i = 0; i < size; i++) scaled[i] = max > min ? (image_[i] - min) / (max - min) : 0f;
            images[n] = RgbImage.FromPlanar(scaled, channels is 1 or 3 ? channels : 1, tensor.Shape[2], tensor.Shape[3]);
        }
        return (tensor, images);
    }

    /// <summary>Runs one method on every image; returns the overlays, the maps to save (image after image) and one map's shape.</summary>
    private static (RgbImage[] Overlays, float[] Maps, int[] Shape) Run(CamExplainer explainer, string name, Tensor input, RgbImage[] shown,
        CamTarget target, string layer, ExplainOptions options, ColorMap colors)
    {
        int count = input.Shape[0], h = input.Shape[2], w = input.Shape[3];
        var overlays = new RgbImage[count];
        if (name == "guided-backprop" || name == "guided-gradcam")
        {
            var values = name == "guided-backprop"
                ? GuidedBackprop.Explain(explainer, input, target)
                : GuidedGradCam.Explain(explainer, input, target, layer).Values;
            for (int n = 0; n < count; n++) overlays[n] = GradientImage(values.Of(n).ToArray(), values.Channels, h, w);
            return (overlays, values.Values, [values.Channels, h, w]);
        }
        var result = explainer.Explain(CamMethods.Create(name), input, target, layer, options);
        for (int n = 0; n < count; n++) overlays[n] = Overlay.Blend(shown[n], result.NormalizedOf(n).ToArray(), w, h, colors);
        return (overlays, options.Raw ? result.Upsampled : result.Normalized, [h, w]);
    }

    /// <summary>Gradients as an image, the usual way: centre at grey, scale by 3 standard deviations.</summary>
    private static RgbImage GradientImage(float[] chw, int channels, int h, int w)
    {
        double mean = chw.Average(), std = Math.Sqrt(chw.Select(v => (v - mean) * (v - mean)).Average());
        var scaled = chw.Select(v => (float)Math.Clamp(0.5 + (v - mean) / (6 * std + 1e-12), 0, 1)).ToArray();
        return RgbImage.FromPlanar(scaled, channels is 1 or 3 ? channels : 1, h, w);
    }
}
