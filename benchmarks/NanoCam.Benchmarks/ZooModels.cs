using System.Text.Json;
using NanoCam.Imaging;
using NanoCam.Onnx;

namespace NanoCam.Benchmarks;

/// <summary>
/// The imported models the zoo benchmarks run (<see cref="ModelZooBenchmarks"/>, <see cref="GradCamLatencyBenchmarks"/>):
/// SqueezeNet 1.1, every ONNX model of shared/data/models/zoo and, where /work/fullsize (or NANOCAM_FULLSIZE) holds them,
/// the full-size torchvision exports; their paths, inputs and Grad-CAM targets.
/// </summary>
public static class ZooModels
{
    public const string Zoo = "zoo/", Full = "full/", SqueezeNet = "squeezenet1.1";

    public static string FullSizeDirectory => Environment.GetEnvironmentVariable("NANOCAM_FULLSIZE") is { Length: > 0 } dir ? dir : "/work/fullsize";

    /// <summary>
    /// squeezenet1.1, zoo/NAME for each zoo model, full/NAME for each full-size one; NANOCAM_ZOO_MODELS=a,b keeps the named
    /// ones. What is absent is skipped with a line that begins with <paramref name="benchmark"/>.
    /// </summary>
    public static List<string> Discover(string benchmark)
    {
        var models = new List<string>();
        string squeezeNet = SharedData.Path("models", "SqueezeNet_fp32_from_fp16.onnx");
        if (File.Exists(squeezeNet)) models.Add(SqueezeNet);
        else Console.WriteLine($"{benchmark}: {squeezeNet} is absent: SqueezeNet skipped");
        string zoo = SharedData.Path("models", "zoo");
        if (Directory.Exists(zoo)) models.AddRange(Directory.GetFiles(zoo, "*.onnx").Select(f => Zoo + Path.GetFileNameWithoutExtension(f)).Order(StringComparer.Ordinal));
        else Console.WriteLine($"{benchmark}: {zoo} is absent: the zoo models skipped");
        if (Directory.Exists(FullSizeDirectory))
            models.AddRange(Directory.GetFiles(FullSizeDirectory, "*.onnx").Select(f => Full + Path.GetFileNameWithoutExtension(f)).Order(StringComparer.Ordinal));
        else Console.WriteLine($"{benchmark}: {FullSizeDirectory} is absent: the full-size models skipped");
        if (Environment.GetEnvironmentVariable("NANOCAM_ZOO_MODELS") is not { Length: > 0 } filter) return models;
        var wanted = filter.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        foreach (var name in wanted.Where(w => !models.Any(m => Matches(m, w))))
            Console.WriteLine($"{benchmark}: {name} is absent: skipped");
        return models.Where(m => wanted.Any(w => Matches(m, w))).ToList();
    }

    private static bool Matches(string model, string wanted) => model == wanted || model.EndsWith("/" + wanted, StringComparison.Ordinal);

    public static string PathOf(string model) =>
        model == SqueezeNet ? SharedData.Path("models", "SqueezeNet_fp32_from_fp16.onnx")
        : model.StartsWith(Zoo, StringComparison.Ordinal) ? SharedData.Path("models", "zoo", model[Zoo.Length..] + ".onnx")
        : Path.Combine(FullSizeDirectory, model[Full.Length..] + ".onnx");

    /// <summary>The model's stored input (NAME.input.npy beside it), else uniform values in [−1, 1] of its declared shape.</summary>
    public static Tensor InputFor(string path, OnnxModel model)
    {
        string stored = Path.ChangeExtension(path, ".input.npy");
        if (File.Exists(stored))
        {
            var (data, shape) = Npy.Read(stored);
            return Tensor.FromArray(data, shape);
        }
        var dims = model.DeclaredInputDims();
        var rng = new Random(1);
        var values = new float[dims.Aggregate(1, (p, d) => p * d)];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(rng.NextDouble() * 2 - 1);
        return Tensor.FromArray(values, dims);
    }

    /// <summary>
    /// The layer (a PyTorch module path, as to <c>--layer</c>) and class Grad-CAM explains: target_module and target_class
    /// of NAME.json beside the model; SqueezeNet's last Fire module (the ONNX file's <c>fire9/concat_1</c>, torchvision's
    /// <c>features.12</c>, 512 × 13 × 13) for class 0; null with a reason when the model names none.
    /// </summary>
    public static (string Layer, int Class)? GradCamTarget(string model, out string reason)
    {
        reason = "";
        if (model == SqueezeNet) return ("fire9/concat_1", 0);
        string json = Path.ChangeExtension(PathOf(model), ".json");
        if (!File.Exists(json))
        {
            reason = $"{json} is absent: no target layer";
            return null;
        }
        using var document = JsonDocument.Parse(File.ReadAllText(json));
        var meta = document.RootElement;
        if (!meta.TryGetProperty("target_module", out var module) || !meta.TryGetProperty("target_class", out var target))
        {
            reason = $"{json} names no target_module and target_class (a model without a spatial layer)";
            return null;
        }
        return (module.GetString()!, target.GetInt32());
    }

    /// <summary><paramref name="image"/> [1, C, H, W] repeated <paramref name="batch"/> times along the batch axis.</summary>
    public static Tensor Repeat(Tensor image, int batch)
    {
        var one = image.ToArray();
        var values = new float[one.Length * batch];
        for (int n = 0; n < batch; n++) one.CopyTo(values, n * one.Length);
        return Tensor.FromArray(values, [batch, .. image.Shape.ToArray()[1..]]);
    }
}
