using NanoCam.Explain;
using NanoCam.Explain.Methods;
using NanoCam.Nn.Checkpoints;
using NanoCam.Nn.Models;
using NanoCam.Nn.Modules;

namespace NanoCam.Benchmarks.Explain;

/// <summary>The networks the explanation benchmarks time, and one call of any explanation method on them.</summary>
internal static class CamBenchmarkNetwork
{
    /// <summary>
    /// A VGG-style GAP-CNN for 224×224 RGB: conv 3×3 3→16, pool, 16→32, pool, 32→64, pool, 64→128, pool, 128→128
    /// (each conv + ReLU; last map 128×14×14), GAP, FC → 1000 classes. 0.45 GFLOP per image. Random weights (He),
    /// which is all a latency benchmark needs; CAM applies (it is a GAP network) and so does FullGrad (a NanoCam module).
    /// </summary>
    public static GapCnn Vgg224()
    {
        var rng = new Random(7);
        Conv2d Conv(int cin, int cout) => new(cin, cout, 3, padding: 1, rng: rng);
        return new GapCnn(new Sequential(
            Conv(3, 16), new ReLU(), new MaxPool2d(2),
            Conv(16, 32), new ReLU(), new MaxPool2d(2),
            Conv(32, 64), new ReLU(), new MaxPool2d(2),
            Conv(64, 128), new ReLU(), new MaxPool2d(2),
            Conv(128, 128), new ReLU()), 128, 1000, rng);
    }

    /// <summary>The shipped MNIST GAP-CNN (weights/mnist-gapcnn.safetensors), found by walking up from the benchmark's folder.</summary>
    public static GapCnn ShippedMnistGapCnn()
    {
        var model = Architectures.Create("gapcnn", inputChannels: 1, classes: 10, seed: 1);
        Checkpoint.Load(model, FindUpwards(Path.Combine("weights", "mnist-gapcnn.safetensors")));
        return model;
    }

    /// <summary>The first <paramref name="relativePath"/> found walking up from the benchmark's folder (weights/…).</summary>
    public static string FindUpwards(string relativePath)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, relativePath);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"{relativePath} not found above {AppContext.BaseDirectory}");
    }

    /// <summary>
    /// The methods that run tens to hundreds of passes per image (masked or ablated inputs, batched 32 to a pass; noisy or
    /// interpolated copies; occluded windows).
    /// </summary>
    public static readonly string[] MaskedMethods =
        ["scorecam", "sscam", "iscam", "ablationcam", "integrated-gradients", "smoothgrad", "smoothgrad-sq", "occlusion"];

    /// <summary>The forward-only baseline, then every other method: the CAM family and the input-space methods.</summary>
    public static IEnumerable<string> FastMethods =>
        [OverheadForward, .. CamMethods.Names.Except(MaskedMethods), .. InputAttributions.Names.Except(MaskedMethods)];

    private const string OverheadForward = Infrastructure.OverheadColumn.ForwardMethod;

    /// <summary>
    /// One call of <paramref name="method"/> on <paramref name="input"/> for the top prediction; "forward" is one
    /// no-grad forward pass (the baseline). Returns a value read from the result, so the work cannot be dropped.
    /// </summary>
    public static float Run(CamExplainer explainer, string method, Tensor input) => method switch
    {
        OverheadForward => explainer.ScoresOf(input)[0],
        _ when InputAttributions.Contains(method) => InputAttributions.Create(method).Explain(explainer, input, CamTarget.TopPrediction()).Values[0],
        _ => explainer.Explain(CamMethods.Create(method), input, CamTarget.TopPrediction()).Normalized[0],
    };
}
