using System.CommandLine;
using NanoCam.Cli.Shared;
using NanoCam.Explain;
using NanoCam.Explain.Methods;
using NanoCam.Explain.Relevance;
using NanoCam.Imaging;

namespace NanoCam.Cli.Commands;

/// <summary><c>nanocam explain</c>: any CAM-family method, Guided Backprop or Guided Grad-CAM, on a NanoCam checkpoint or an ONNX model.</summary>
public static class ExplainCommand
{
    public static Command Create()
    {
        var model = CliOptions.Model();
        var image = CliOptions.Path("--image", "image file to explain", PathRole.InputFile);
        var input = CliOptions.Path("--input", "a ready float32 tensor (.npy), no preprocessing: one image C×H×W or a batch N×C×H×W (one overlay per image: OUT_0.png, …)", PathRole.InputFile);
        var method = CliOptions.Make("--method", $"one of: {string.Join(", ", MethodList.All)}; a comma-separated list of them; or all. "
            + "With several, each method that applies writes what it would alone with --out OUT_<method>.png and --save-map MAP_<method>.npy, "
            + "--out gets a montage (the input, then every method that ran), and each method that does not apply is named on stderr with the reason", "gradcam");
        method.Validators.Add(result => { if (MethodList.Problem(result.GetValueOrDefault<string>() ?? "", "--method") is { } problem) result.AddError(problem); });
        var layer = CliOptions.Make<string?>("--layer", "target layer (see `nanocam layers`; default: the last spatial layer, for cam the layer its class weights apply to); "
            + "a comma-separated list a,b,c, shallow to deep, fuses the CAM-family maps of those layers (LayerCAM's fusion: the shallow maps rescaled by tanh(2·M/max M), element-wise maximum, normalized)", null);
        layer.Validators.Add(result => { if (LayerListProblem(result.GetValueOrDefault<string?>()) is { } problem) result.AddError(problem); });
        var cls = CliOptions.Make<int?>("--class", "class to explain (default: the top prediction)", null);
        var targetText = TargetOption.Make();
        var detectorLayout = TargetOption.MakeLayout();
        var output = CliOptions.Path("--out", "overlay PNG to write (several methods: the montage; each method's overlay beside it as OUT_<method>.png)", PathRole.OutputFile, "explanation.png");
        var saveMap = CliOptions.Path("--save-map", "write the map as float32 .npy: H×W in [0,1] for the CAM family, C×H×W raw attributions for input-space methods (several methods: MAP_<method>.npy each)", PathRole.OutputFile);
        var raw = CliOptions.Make("--raw", "keep the map unnormalized (ReLU'd and upsampled, not min–max scaled) in --save-map", false);
        var augment = CliOptions.Make("--aug-smooth", "test-time augmentation: average with the horizontally flipped image's map", false);
        var eigen = CliOptions.Make("--eigen-smooth", "replace the weighted sum by its first principal component", false);
        var reshapeTokens = CliOptions.Make("--reshape-tokens", "a transformer layer's tokens [N, T, D] laid out on their square grid as [N, D, h, w], the class token dropped (pytorch-grad-cam's reshape_transform)", false);
        var colormap = CliOptions.ColorMap();
        var labels = CliOptions.Make<string?>("--labels", "class names, one per line (or a JSON array), for ONNX models", null);
        var steps = CliOptions.Make("--steps", "integrated-gradients: interpolation steps m of the Riemann sum", 32);
        var baseline = CliOptions.Make("--baseline", "integrated-gradients: black (a black image through the model's normalization), zero (the zero input), blur or noise", "black");
        var samples = CliOptions.Make("--samples", "smoothgrad, smoothgrad-sq: noisy copies averaged", 16);
        var noise = CliOptions.Make("--noise", "smoothgrad, smoothgrad-sq: noise σ as a fraction of the image's value range", 0.15f);
        var window = CliOptions.Make("--window", "occlusion: window side in pixels (0: an eighth of the larger side)", 0);
        var stride = CliOptions.Make("--stride", "occlusion: window stride in pixels (0: half the window)", 0);
        var smooth = CliOptions.Make<string?>("--smooth", "N,σ: average any method's map over N noisy copies x + ε, ε ~ N(0, (σ·(max − min of the image))²) — σ a fraction of the image's value range (SmoothGrad's noise tunnel), e.g. 16,0.15", null);
        smooth.Validators.Add(result => { if (SmoothingProblem(result.GetValueOrDefault<string?>()) is { } problem) result.AddError(problem); });
        var seed = CliOptions.Make("--seed", "seed of --smooth's noise (the same seed gives the same map)", 0);
        var threads = CliOptions.Threads();
        var device = CliOptions.Device();
        var preprocessing = new PreprocessingOptions();
        var command = new Command("explain", "Explain a prediction with a CAM-family method (Grad-CAM and family, Guided Backprop)")
        {
            model, image, input, method, layer, cls, targetText, detectorLayout, output, saveMap, raw, augment, eigen, reshapeTokens, colormap, labels,
            steps, baseline, samples, noise, window, stride, smooth, seed, threads, device,
        };
        preprocessing.AddTo(command);
        var relevance = new RelevanceOptions();
        relevance.AddTo(command);
        command.SetAction(p => CliRunner.Guard(() =>
        {
            string methodValue = p.GetValue(method)!;
            var names = MethodList.Parse(methodValue, "--method");
            bool several = MethodList.IsSeveral(methodValue);
            var colormapName = p.GetValue(colormap)!;
            var colors = ColorMaps.Get(colormapName);
            var kernels = Backends.Create(p.GetValue(device)!, p.GetValue(threads));
            var loaded = LoadedModel.Open(p.GetValue(model)!, p.GetValue(labels), preprocessing, p);
            if (loaded.Explainable is ModuleExplainable module) module.Model.MoveTo(kernels);
            var explainer = new CamExplainer(loaded.Explainable, kernels) { ReshapeTokens = p.GetValue(reshapeTokens) };
            var attributionSettings = relevance.Apply(new InputAttributionSettings(
                OptionChecks.AtLeast(p.GetValue(steps), 1, "--steps"), BaselineOf(p.GetValue(baseline)!), loaded.PixelInput(p.GetValue(input) is not null, 0f),
                OptionChecks.AtLeast(p.GetValue(samples), 1, "--samples"), OptionChecks.NotNegative(p.GetValue(noise), "--noise"),
                OptionChecks.AtLeast(p.GetValue(window), 0, "--window"), OptionChecks.AtLeast(p.GetValue(stride), 0, "--stride")),
                p, loaded, p.GetValue(input) is not null);
            // Several layers fuse the maps; which layer each method explains, and why a method does not apply, are known before any pass runs.
            var layerNames = LayersOf(p.GetValue(layer));
            var plans = names.Select(name => Plan(explainer, name, layerNames)).ToList();
            var tunnel = p.GetValue(smooth) is { } smoothing ? Tunnel(smoothing, p.GetValue(seed)) : null;
            if (several && plans.All(plan => plan.Skipped is not null))
                throw new InvalidOperationException($"none of the methods applies: {string.Join("; ", plans.Select(plan => $"{plan.Name}: {plan.Skipped}"))}");
            var (tensor, shown) = ReadInput(loaded, p.GetValue(image), p.GetValue(input));
            if (p.GetValue(cls) is not null && p.GetValue(targetText) is not null) throw new ArgumentException("give --class or --target, not both (--target class:K is --class K)");
            var target = p.GetValue(cls) is { } k ? CamTarget.Class(k) : TargetOption.Parse(p.GetValue(targetText), loaded, explainer, tensor, p.GetValue(detectorLayout)!);
            var options = new ExplainOptions(p.GetValue(raw), p.GetValue(augment), p.GetValue(eigen));
            int count = tensor.Shape[0], classes = loaded.Explainable.Classes;
            var scores = explainer.ScoresOf(tensor);
            if (p.GetValue(cls) is null && p.GetValue(targetText) is null && loaded.Explainable is DenseExplainable dense)
            {
                // No target on a dense output: each image's predicted class's region, or its most confident box (as
                // Explainer.Load does), not the largest single output value; the line says which was chosen.
                var chosen = Enumerable.Range(0, count).Select(n => dense.DefaultTarget(scores.AsSpan(n * classes, classes))).ToList();
                target = CamTarget.PerImage(chosen);
                bool segmentation = chosen[0] is Explain.Targets.SegmentationTarget;
                for (int n = 0; n < count; n++)
                {
                    int chosenClass = chosen[n] switch { Explain.Targets.SegmentationTarget s => s.Index, Explain.Targets.BoxTarget { Index: { } i } => i, _ => -1 };
                    string name = dense.OutputClassNames is { } outputNames && (uint)chosenClass < (uint)outputNames.Count ? $" ({outputNames[chosenClass]})" : "";
                    Console.WriteLine($"{(count == 1 ? "" : $"image {n}: ")}no --target: explaining {chosen[n]}{name}, "
                        + (segmentation ? "the predicted class's region" : "the most confident box"));
                }
            }
            var targets = new int[count];
            // A classifier's output gets its top 5; a segmentation map's or a detector's is named by its shape.
            var outputDims = loaded.Explainable.OutputDims(tensor.Shape[1], tensor.Shape[2], tensor.Shape[3]);
            if (outputDims.Length != 1) Console.WriteLine($"output [{string.Join(", ", outputDims)}] per image");
            for (int n = 0; n < count; n++)
            {
                var row = scores.AsSpan(n * classes, classes);
                targets[n] = target.ClassFor(n, row);
                if (outputDims.Length != 1) continue;
                Console.WriteLine(count == 1 ? "top-5:" : $"image {n}: top-5:");
                Predictions.PrintTopK(row.ToArray(), loaded.Explainable.ClassNames);
            }
            string Named(int c) => ClassLabels.NameSuffix(c, loaded.Explainable.ClassNames);
            // "class 3 (cat)", or the target itself when it is not one class's score.
            string What(int n) => target.IsClassScore ? $"class {targets[n]}{Named(targets[n])}" : $"target {target}";
            string outputPath = p.GetValue(output)!;
            string? mapPath = p.GetValue(saveMap);
            // One image: the path itself; a batch: OUT_0.png, OUT_1.png, …
            string OutputFor(string path, int n) => count == 1 ? path : Suffixed(path, n.ToString());

            // Runs one method and writes its overlays (and map): what `--method NAME --out OVERLAY --save-map MAP` writes.
            RgbImage[] Write(MethodPlan plan, string overlay, string? map)
            {
                explainer.Warnings.Clear();
                var (images, maps, mapShape) = Run(explainer, plan, tensor, shown, target, options, colors, attributionSettings, tunnel);
                foreach (var warning in explainer.Warnings) Console.Error.WriteLine($"nanocam: warning: {warning}");
                for (int n = 0; n < count; n++)
                {
                    ImageCodec.SavePng(images[n], OutputFor(overlay, n));
                    Console.WriteLine($"{plan.Name} for {What(n)}{(MethodList.IsInputSpace(plan.Name) && !InputAttributions.ReadsLayer(plan.Name) ? "" : plan.Fused is { } fused ? $" at layers {string.Join(", ", fused.Select(l => $"'{l}'"))} (fused)" : $" at layer '{plan.Layer}'")}{(tunnel is null ? "" : $", averaged over {tunnel.Samples} noisy copies")} written to {OutputFor(overlay, n)}");
                }
                if (map is not null) Npy.Write(map, maps, count == 1 ? mapShape : [count, .. mapShape]);
                return images;
            }

            // A layer that does not exist or is not spatial fails every method alike: one line, before any method runs
            // (each of several fused layers is checked before the first one is explained).
            if (layerNames.Count > 1)
                foreach (var layerName in plans.SelectMany(plan => plan.Fused ?? []).Distinct())
                    explainer.Capture(tensor, layerName, target, withGradients: false);
            if (!several)
            {
                if (plans[0].Fused is not null && MethodList.IsInputSpace(plans[0].Name))
                    throw new InvalidOperationException($"{plans[0].Name}: {plans[0].Skipped}");
                Write(plans[0], outputPath, mapPath);
                return 0;
            }
            foreach (var layerName in plans.Where(plan => plan.Skipped is null && plan.Fused is null && !(MethodList.IsInputSpace(plan.Name) && !InputAttributions.ReadsLayer(plan.Name))).Select(plan => plan.Layer).Distinct())
                explainer.Capture(tensor, layerName, target, withGradients: false);
            var panels = Enumerable.Range(0, count).Select(n => new List<RgbImage> { shown[n] }).ToList();
            var ran = new List<string>();
            int failed = 0;
            foreach (var plan in plans)
            {
                if ((plan.Skipped ?? WhyNotForTarget(plan.Name, target)) is { } why)
                {
                    Console.Error.WriteLine($"nanocam: skipped {plan.Name}: {why}");
                    continue;
                }
                RgbImage[] images;
                try
                {
                    images = Write(plan, Suffixed(outputPath, plan.Name), mapPath is null ? null : Suffixed(mapPath, plan.Name));
                }
                catch (Exception e) when (CliRunner.IsUserError(e))
                {
                    // The other methods still run; the exit code says that one failed.
                    var message = CliRunner.Describe(e);
                    Console.Error.WriteLine($"nanocam: error: {(message.StartsWith($"{plan.Name}: ") ? message : $"{plan.Name}: {message}")}");
                    failed++;
                    continue;
                }
                for (int n = 0; n < count; n++) panels[n].Add(images[n]);
                ran.Add(plan.Name);
            }
            if (ran.Count == 0) return 1;
            // The montage's title names the layer when every method that ran explained the same one.
            var ranLayers = plans.Where(plan => ran.Contains(plan.Name) && !(MethodList.IsInputSpace(plan.Name) && !InputAttributions.ReadsLayer(plan.Name))).Select(plan => plan.Layer).Distinct().ToArray();
            string sharedLayer = ranLayers.Length == 1 ? $", layer '{ranLayers[0]}'" : "";
            for (int n = 0; n < count; n++)
            {
                ImageCodec.SavePng(Montage.Labelled(panels[n], ["input", .. ran], 5, (target.IsClassScore ? ClassLabels.Describe(targets[n], loaded.Explainable.ClassNames) : $"target {target}") + sharedLayer).Image, OutputFor(outputPath, n));
                Console.WriteLine($"{ran.Count} method(s) for {What(n)} written to {OutputFor(outputPath, n)} (first panel: the input; then {string.Join(", ", ran)})");
            }
            return failed > 0 ? 1 : 0;
        }));
        return command;
    }

    /// <summary>
    /// One method of a run: the layer it explains (several: <paramref name="Fused"/>, shallow to deep, their maps fused),
    /// and why it does not apply (null when it does).
    /// </summary>
    private sealed record MethodPlan(string Name, string Layer, string? Skipped, IReadOnlyList<string>? Fused = null);

    private static MethodPlan Plan(CamExplainer explainer, string name, IReadOnlyList<string> layers)
    {
        // Guided Grad-CAM weighs the guided gradients by Grad-CAM at the layer; the other input-space methods read no layer.
        var cam = CamMethods.Create(MethodList.IsInputSpace(name) ? "gradcam" : name);
        if (layers.Count > 1)
        {
            var fused = layers.Select(layer => explainer.LayerFor(cam, layer)).ToArray();
            string? why = MethodList.IsInputSpace(name) ? "fusing several layers (a comma in --layer) applies to the CAM family only"
                : fused.Select(layer => cam.WhyNotApplicable(explainer.Model, layer) is { } reason ? $"layer '{layer}': {reason}" : null).FirstOrDefault(reason => reason is not null);
            return new MethodPlan(name, string.Join(", ", fused), why, fused);
        }
        string resolved = explainer.LayerFor(cam, layers.Count == 1 ? layers[0] : null);
        return new MethodPlan(name, resolved, cam.WhyNotApplicable(explainer.Model, resolved));
    }

    /// <summary>Why <paramref name="name"/> cannot explain <paramref name="target"/> (it reads class scores and the target is not one), or null.</summary>
    private static string? WhyNotForTarget(string name, CamTarget target) =>
        target.IsClassScore || !(MethodList.IsInputSpace(name) ? InputAttributions.Create(name).ReadsClassScore : CamMethods.Create(name).ReadsClassScore) ? null
        : $"it explains one class's score, and the target {target} is not one";

    /// <summary>--layer's names: none (the default layer), one, or several to fuse.</summary>
    private static IReadOnlyList<string> LayersOf(string? value) =>
        value is null ? [] : value.Contains(',') ? value.Split(',', StringSplitOptions.TrimEntries) : [value];

    /// <summary>What is wrong with a --layer list (an empty name between commas, a layer named twice), or null.</summary>
    internal static string? LayerListProblem(string? value)
    {
        if (value is null || !value.Contains(',')) return null;
        var names = value.Split(',', StringSplitOptions.TrimEntries);
        if (names.Any(name => name.Length == 0)) return $"--layer '{value}' has an empty layer name: give a,b,c (shallow to deep)";
        var twice = names.GroupBy(name => name).FirstOrDefault(group => group.Count() > 1);
        return twice is null ? null : $"--layer names '{twice.Key}' twice";
    }

    /// <summary>What is wrong with a --smooth value (N,σ: N a whole number ≥ 1, σ a number ≥ 0), or null.</summary>
    internal static string? SmoothingProblem(string? value)
    {
        if (value is null) return null;
        var parts = value.Split(',', StringSplitOptions.TrimEntries);
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        if (parts.Length != 2 || !int.TryParse(parts[0], System.Globalization.NumberStyles.Integer, invariant, out int samples)
            || !float.TryParse(parts[1], System.Globalization.NumberStyles.Float, invariant, out float sigma))
            return $"--smooth must be N,σ (noisy copies, noise as a fraction of the image's range), e.g. 16,0.15; got '{value}'";
        if (samples < 1) return $"--smooth: N must be at least 1, got {samples}";
        if (!float.IsFinite(sigma) || sigma < 0) return $"--smooth: σ must be 0 or a positive number, got {parts[1]}";
        return null;
    }

    /// <summary>The noise tunnel of a valid --smooth value.</summary>
    private static NoiseTunnel Tunnel(string value, int seed)
    {
        var parts = value.Split(',', StringSplitOptions.TrimEntries);
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        return new NoiseTunnel(int.Parse(parts[0], invariant), float.Parse(parts[1], invariant), seed);
    }

    private static IntegrationBaseline BaselineOf(string name) => name switch
    {
        "black" => IntegrationBaseline.Black,
        "zero" => IntegrationBaseline.Zero,
        "blur" => IntegrationBaseline.Blur,
        "noise" => IntegrationBaseline.UniformNoise,
        _ => throw new ArgumentException($"--baseline must be black, zero, blur or noise, got '{name}'"),
    };

    /// <summary>dir/name.ext → dir/name_SUFFIX.ext.</summary>
    private static string Suffixed(string path, string suffix) =>
        Path.Combine(Path.GetDirectoryName(path) ?? "", $"{Path.GetFileNameWithoutExtension(path)}_{suffix}{Path.GetExtension(path)}");

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
    private static (RgbImage[] Overlays, float[] Maps, int[] Shape) Run(CamExplainer explainer, MethodPlan plan, Tensor input, RgbImage[] shown,
        CamTarget target, ExplainOptions options, ColorMap colors, InputAttributionSettings settings, NoiseTunnel? tunnel)
    {
        string name = plan.Name, layer = plan.Layer;
        int count = input.Shape[0], h = input.Shape[2], w = input.Shape[3];
        var overlays = new RgbImage[count];
        if (MethodList.IsInputSpace(name))
        {
            // Guided gradients are shown as an image of their own (their sign carries edges); the other input-space
            // methods as a heat map of their per-pixel map over the image. --save-map keeps the raw attributions [C, H, W].
            var method = InputAttributions.Create(name, layer, settings);
            var values = tunnel is null ? method.Explain(explainer, input, target) : tunnel.Explain(explainer, method, input, target);
            for (int n = 0; n < count; n++)
            {
                if (name.StartsWith("guided-", StringComparison.Ordinal)) overlays[n] = GradientImage(values.Of(n).ToArray(), values.Channels, h, w);
                else
                {
                    var map = method.MapOf(values, n);
                    var normalized = new float[map.Length];
                    MapOps.MinMaxNormalize(map, normalized);
                    overlays[n] = Overlay.Blend(shown[n], normalized, w, h, colors);
                }
            }
            if (values.CompletenessError is { } errors)
                for (int n = 0; n < count; n++)
                    Console.Error.WriteLine($"nanocam: {name}: image {n}: completeness error Σ attribution − (y^c(x) − y^c(x′)) = {errors[n]:G4}");
            return (overlays, values.Values, [values.Channels, h, w]);
        }
        var cam = CamMethods.Create(name);
        // The maps shown (normalized, or raw with --raw, as the plain path) and the maps saved.
        (float[] Shown, float[] Saved) maps;
        if (plan.Fused is { } layers)
        {
            if (tunnel is not null)
            {
                var smoothed = tunnel.ExplainFused(explainer, cam, input, target, layers, options);
                maps = (smoothed.Normalized, smoothed.Normalized);
            }
            else
            {
                var fused = LayerFusion.Explain(explainer, cam, input, target, layers, options);
                maps = (fused.Fused, options.Raw ? fused.Maximum : fused.Fused);
            }
        }
        else if (tunnel is not null)
        {
            var smoothed = tunnel.Explain(explainer, cam, input, target, layer, options);
            maps = (smoothed.Normalized, smoothed.Normalized);
        }
        else
        {
            var result = explainer.Explain(cam, input, target, layer, options);
            maps = (result.Normalized, options.Raw ? result.Upsampled : result.Normalized);
        }
        int plane = h * w;
        for (int n = 0; n < count; n++) overlays[n] = Overlay.Blend(shown[n], maps.Shown.AsSpan(n * plane, plane).ToArray(), w, h, colors);
        return (overlays, maps.Saved, [h, w]);
    }

    /// <summary>Gradients as an image, the usual way: centre at grey, scale by 3 standard deviations.</summary>
    private static RgbImage GradientImage(float[] chw, int channels, int h, int w)
    {
        double mean = chw.Average(), std = Math.Sqrt(chw.Select(v => (v - mean) * (v - mean)).Average());
        var scaled = chw.Select(v => (float)Math.Clamp(0.5 + (v - mean) / (6 * std + 1e-12), 0, 1)).ToArray();
        return RgbImage.FromPlanar(scaled, channels is 1 or 3 ? channels : 1, h, w);
    }
}
