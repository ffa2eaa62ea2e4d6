using NanoCam.Cpu.Simd;
using NanoCam.Explain.Methods;
using NanoCam.Imaging;
using NanoCam.Nn.Models;
using NanoCam.Onnx;

namespace NanoCam.Explain;

/// <summary>
/// The library's front door: load a model (a NanoCam checkpoint or an ONNX file, its preprocessing and labels found
/// beside it as the <c>nanocam</c> tool finds them), explain images with any method.
/// <code>
/// using var explainer = Explainer.Load("model.onnx");
/// var explanation = explainer.Explain("cat.png", Method.GradCam, CamTarget.Class(281));
/// ImageCodec.SavePng(explanation.Overlay(ImageCodec.Load("cat.png")), "cat-gradcam.png");
/// </code>
/// A dense checkpoint (<c>train --arch seg-fcn</c> or <c>det-grid</c>) is explained with a segmentation or box target
/// (<see cref="OutputDims"/> gives the shape they take); with no target, its predicted class's region or its most
/// confident box; a class target is refused.
/// Thread-safe: concurrent calls run one after another on the model's tape (each call uses every core the kernels
/// were given). Disposing releases the CPU kernels' worker threads (and a GPU backend's memory, when one was passed in
/// <see cref="ExplainerOptions.Kernels"/> with <see cref="ExplainerOptions.OwnsKernels"/>).
/// </summary>
public sealed class Explainer : IDisposable
{
    private readonly object _gate = new();
    private readonly CamExplainer _explainer;
    private readonly IKernels _kernels;
    private readonly bool _ownsKernels;
    private readonly Func<RgbImage, (Tensor Input, RgbImage Shown)> _prepare;

    private Explainer(IExplainable model, IKernels kernels, bool ownsKernels, Func<RgbImage, (Tensor, RgbImage)> prepare, int[] inputShape, Preprocessing? preprocessing)
    {
        Model = model;
        _kernels = kernels;
        _ownsKernels = ownsKernels;
        _prepare = prepare;
        InputShape = inputShape;
        Preprocessing = preprocessing;
        _explainer = new CamExplainer(model, kernels);
    }

    /// <summary>The model as the methods see it (its layers, classes, CAM head).</summary>
    public IExplainable Model { get; }

    /// <summary>The class names, or null when the model has none.</summary>
    public IReadOnlyList<string>? ClassNames => Model.ClassNames;

    /// <summary>The model's input [1, C, H, W].</summary>
    public int[] InputShape { get; }

    /// <summary>An ONNX model's image preprocessing (sidecar, metadata_props, or <see cref="ExplainerOptions.Preprocessing"/>); null for a NanoCam checkpoint, whose normalization is in its description.</summary>
    public Preprocessing? Preprocessing { get; }

    /// <summary>
    /// Loads <paramref name="modelPath"/>: an <c>.onnx</c> file (preprocessing from MODEL.preprocess.json or its
    /// metadata_props, else RGB with ImageNet mean and std; labels from the sidecar or labels.txt / imagenet_labels.txt /
    /// synset.txt beside it) or a NanoCam checkpoint (CKPT.safetensors with CKPT.json beside it).
    /// </summary>
    public static Explainer Load(string modelPath, ExplainerOptions? options = null)
    {
        options ??= new ExplainerOptions();
        if (!File.Exists(modelPath)) throw new FileNotFoundException($"model '{modelPath}' not found");
        var kernels = options.Kernels ?? new SimdKernels(options.Threads);
        bool owns = options.Kernels is null || options.OwnsKernels;
        try
        {
            if (modelPath.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
            {
                var onnx = OnnxModel.Load(modelPath);
                var travelling = PreprocessingSettings.For(modelPath, onnx.MetadataProps);
                string? labels = options.Labels ?? travelling.Select(s => s.Labels).FirstOrDefault(l => l is not null) ?? LabelsBeside(modelPath);
                var names = OnnxExplainable.LoadLabels(labels);
                var model = new OnnxExplainable(onnx, names);
                if (names is null && LabelsBeside(modelPath) is { } beside && OnnxExplainable.LoadLabels(beside) is { } found && found.Count == model.Classes)
                    model = new OnnxExplainable(onnx, found);
                var shape = model.InputShape;
                var preprocessing = options.Preprocessing ?? Preprocessing.Resolve(travelling, shape[^1], shape[1] > 0 ? shape[1] : 3);
                return new Explainer(model, kernels, owns, preprocessing.Apply, [1, preprocessing.Channels, preprocessing.Size, preprocessing.Size], preprocessing);
            }
            var trained = TrainedModel.Load(modelPath);
            trained.Model.MoveTo(kernels);
            var m = trained.Metadata;
            // A dense network (seg-fcn, det-grid) is explained through segmentation and box targets (DenseExplainable).
            IExplainable explainable = trained.Model is GapCnn classifier ? new ModuleExplainable(classifier, m.Classes)
                : new DenseExplainable(trained.Model, m.InputHeight, m.InputWidth, m.Classes);
            return new Explainer(explainable, kernels, owns, image =>
            {
                var resized = image.Width == m.InputWidth && image.Height == m.InputHeight ? image : Resize.Bilinear(image, m.InputWidth, m.InputHeight);
                return (ImageInput.FromImage(resized, m), resized);
            }, [1, m.InputChannels, m.InputHeight, m.InputWidth], null);
        }
        catch
        {
            if (owns) (kernels as IDisposable)?.Dispose();
            throw;
        }
    }

    /// <summary>The first label file beside the model, of the names the tool looks for.</summary>
    private static string? LabelsBeside(string modelPath)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(modelPath))!;
        return OnnxExplainable.LabelFilesBeside.Select(name => Path.Combine(folder, name)).FirstOrDefault(File.Exists);
    }

    /// <summary>The image as the model takes it: the input tensor [1, C, H, W] and the image it shows (resized, cropped).</summary>
    public (Tensor Input, RgbImage Shown) Prepare(RgbImage image) => _prepare(image);

    /// <summary>The class scores (pre-softmax) of an image; a dense network's output flattened after the batch axis (<see cref="OutputDims"/>).</summary>
    public float[] Scores(RgbImage image)
    {
        var (input, _) = _prepare(image);
        lock (_gate) return _explainer.ScoresOf(input);
    }

    /// <summary>Explains an image file (PNG, JPEG, BMP, …).</summary>
    public Explanation Explain(string imagePath, Method method, CamTarget? target = null, string? layer = null) =>
        Explain(ImageCodec.Load(imagePath), method, target, layer);

    /// <summary>Explains an encoded image read from <paramref name="image"/>.</summary>
    public Explanation Explain(Stream image, Method method, CamTarget? target = null, string? layer = null)
    {
        using var buffer = new MemoryStream();
        image.CopyTo(buffer);
        return Explain(ImageCodec.Decode(buffer.ToArray()), method, target, layer);
    }

    /// <summary>Explains a decoded image, preprocessed as the model wants.</summary>
    public Explanation Explain(RgbImage image, Method method, CamTarget? target = null, string? layer = null) =>
        Explain(_prepare(image).Input, method, target, layer);

    /// <summary>Explains a ready input: [C, H, W] values in a <c>float[]</c> of the model's input size, no preprocessing.</summary>
    public Explanation Explain(float[] input, Method method, CamTarget? target = null, string? layer = null)
    {
        int size = InputShape[1] * InputShape[2] * InputShape[3];
        if (input.Length != size)
            throw new ArgumentException($"the input has {input.Length} values; the model takes [{string.Join(", ", InputShape.Skip(1))}] ({size})");
        return Explain(Tensor.FromArray(input, InputShape), method, target, layer);
    }

    /// <summary>Explains a ready input tensor [1, C, H, W] (or [C, H, W]), no preprocessing.</summary>
    public Explanation Explain(Tensor input, Method method, CamTarget? target = null, string? layer = null)
    {
        if (input.Shape.Rank == 3) input = Tensor.FromArray(input.ToArray(), 1, input.Shape[0], input.Shape[1], input.Shape[2]);
        if (input.Shape.Rank != 4 || input.Shape[0] != 1)
            throw new ArgumentException($"explain one image at a time: the input has shape {input.Shape}, not [1, C, H, W]");
        var data = input.ToArray();
        if (Array.FindIndex(data, v => !float.IsFinite(v)) is var bad and >= 0)
            throw new ArgumentException($"the input holds values that are not finite numbers (the first at element {bad}); the model needs finite inputs");
        if (Model is DenseExplainable dense)
        {
            if (target is null) lock (_gate) target = dense.DefaultTarget(_explainer.ScoresOf(input));
            dense.CheckTarget(target);
        }
        target ??= CamTarget.TopPrediction();
        int height = input.Shape[2], width = input.Shape[3];
        lock (_gate)
        {
            if (method.IsInputSpace)
            {
                var attribution = InputAttributions.Create(method.Name, layer);
                var result = attribution.Explain(_explainer, input, target);
                var map = attribution.MapOf(result, 0);
                var normalized = new float[map.Length];
                MapOps.MinMaxNormalize(map, normalized);
                return new Explanation(method, InputAttributions.ReadsLayer(method.Name) ? _explainer.LayerFor(CamMethods.Create("gradcam"), layer) : null,
                    result.TargetClasses[0], NameOf(result.TargetClasses[0]), normalized, width, height, result);
            }
            var cam = CamMethods.Create(method.Name);
            var camResult = _explainer.Explain(cam, input, target, layer);
            int cls = camResult.Capture.TargetClasses[0];
            return new Explanation(method, camResult.Capture.Layer, cls, NameOf(cls), camResult.NormalizedOf(0).ToArray(), width, height, camResult);
        }
    }

    private string? NameOf(int cls) =>
        (Model is DenseExplainable dense ? dense.OutputClassNames : Model.ClassNames) is { } names && (uint)cls < (uint)names.Count ? names[cls] : null;

    /// <summary>
    /// One image's output shape after the batch axis: [classes] for a classifier, [K + 1, H, W] for a segmentation
    /// network, [boxes, 4 + 1 + K] for a detector (what <see cref="CamTarget.Segmentation"/> and <see cref="CamTarget.Box"/> take).
    /// </summary>
    public int[] OutputDims => Model.OutputDims(InputShape[1], InputShape[2], InputShape[3]);

    public void Dispose()
    {
        if (_ownsKernels) (_kernels as IDisposable)?.Dispose();
    }
}

/// <summary>How <see cref="Explainer.Load"/> runs a model: its backend, threads, labels and preprocessing when not the ones found beside it.</summary>
public sealed record ExplainerOptions
{
    /// <summary>The kernels to run on (an ILGPU backend, naive reference kernels, …); null: the SIMD CPU kernels.</summary>
    public IKernels? Kernels { get; init; }

    /// <summary>Whether disposing the explainer disposes <see cref="Kernels"/> too.</summary>
    public bool OwnsKernels { get; init; }

    /// <summary>CPU threads for the default kernels (0: every core; 1: bit-reproducible).</summary>
    public int Threads { get; init; }

    /// <summary>A label file (one name a line, or a JSON array) for an ONNX model, over what is found beside it.</summary>
    public string? Labels { get; init; }

    /// <summary>An ONNX model's preprocessing, over what travels with it (<see cref="PreprocessingSettings"/>).</summary>
    public Preprocessing? Preprocessing { get; init; }
}
