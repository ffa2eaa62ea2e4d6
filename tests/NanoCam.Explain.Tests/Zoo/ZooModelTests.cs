using System.Text.Json;
using NanoCam.Autodiff;
using NanoCam.Cpu.Simd;
using NanoCam.Explain.Methods;
using NanoCam.Imaging;
using NanoCam.Onnx;
using Xunit.Abstractions;

namespace NanoCam.Explain.Tests.Zoo;

/// <summary>
/// The small models of today's architectures in shared/data/models/zoo, each against PyTorch's numbers: logits within
/// 1e-4 of the largest logit, the dynamic-batch exports' batch of 4 in one pass, and Grad-CAM and Grad-CAM++ maps at the
/// stored target tensor and class against pytorch-grad-cam's (Pearson r ≥ 0.99, max |Δ| ≤ 0.05).
/// </summary>
public sealed class ZooModelTests(ITestOutputHelper output)
{
    private static readonly string[] Names =
    [
        "shufflenet_v2_x0_5", "mobilenet_v3_small_op13", "mobilenet_v3_small_op17_dynamic", "mnasnet0_5", "densenet_tiny",
        "convnext_tiny_narrow", "opmix", "opmix_dynamic", "vit_tiny",
    ];

    public static TheoryData<string> Models => [.. Names];

    public static TheoryData<string> ModelsWithMaps => [.. Names.Where(name => name != "vit_tiny")];

    public static TheoryData<string> DynamicModels => ["mobilenet_v3_small_op17_dynamic", "opmix_dynamic"];

    private static readonly ThreadLocal<SimdKernels> Kernels = new(() => new SimdKernels(threads: 2));

    [Theory]
    [MemberData(nameof(Models))]
    public void Logits_MatchPyTorch_WithinOneTenThousandthOfTheLargest(string name)
    {
        var zoo = ZooModel.Open(name);
        var logits = Run(zoo.Model, zoo.Input);
        double error = MaxRelativeError(logits, zoo.Logits);
        output.WriteLine($"{name}: max |Δ| / max |logit| = {error:E2} over {logits.Length} logits");
        Assert.True(error <= 1e-4, $"{name}: logits differ from PyTorch's by {error:E2} of the largest");
    }

    [Theory]
    [MemberData(nameof(DynamicModels))]
    public void DynamicBatchExport_RunsItsBatchOfFourInOnePass_AndMatchesPyTorch(string name)
    {
        var zoo = ZooModel.Open(name);
        Assert.True(zoo.Model.Batch.Independent, zoo.Model.Batch.Reason);
        var (input, shape) = Npy.Read(ZooModel.PathOf($"{name}.input_b4.npy"));
        var (expected, _) = Npy.Read(ZooModel.PathOf($"{name}.logits_b4.npy"));
        var tape = new Tape(Kernels.Value!) { GradEnabled = false };
        var logits = zoo.Model.Run(tape, Tensor.FromArray(input, shape));
        Assert.Equal(4, logits.Shape[0]);
        double error = MaxRelativeError(logits.ToArray(), expected);
        output.WriteLine($"{name}: batch of 4 in one pass, max |Δ| / max |logit| = {error:E2}");
        Assert.True(error <= 1e-4, $"{name}: batch logits differ by {error:E2}");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void ABatchOfThree_GivesEachImageItsOwnLogits_InOnePassOrImageByImage(string name)
    {
        var zoo = ZooModel.Open(name);
        var explainable = new OnnxExplainable(zoo.Model, null);
        var rng = new Random(3);
        var batch = new float[3 * zoo.Input.Length];
        for (int i = 0; i < batch.Length; i++) batch[i] = zoo.Input[i % zoo.Input.Length] + (i < zoo.Input.Length ? 0f : (float)(rng.NextDouble() - 0.5));
        var explainer = new CamExplainer(explainable, Kernels.Value!);
        var together = explainer.ScoresOf(Tensor.FromArray(batch, [3, .. zoo.InputShape[1..]]));
        int classes = explainable.Classes, size = zoo.Input.Length;
        for (int n = 0; n < 3; n++)
        {
            var alone = explainer.ScoresOf(Tensor.FromArray(batch.AsSpan(n * size, size).ToArray(), zoo.InputShape));
            Assert.True(MaxRelativeError(together.AsSpan(n * classes, classes).ToArray(), alone) <= 1e-5, $"{name}: image {n} of the batch scores differently alone");
        }
        output.WriteLine($"{name}: {(zoo.Model.Batch.Independent ? "one pass" : "image by image")} ({zoo.Model.Batch.Reason})");
        Assert.Equal(name.EndsWith("_dynamic") || zoo.Model.Batch.Independent, zoo.Model.Batch.Independent);
    }

    [Theory]
    [MemberData(nameof(ModelsWithMaps))]
    public void GradCamAndGradCamPlusPlus_MatchPytorchGradCam_AtTheStoredTarget(string name)
    {
        var zoo = ZooModel.Open(name);
        var explainer = new CamExplainer(new OnnxExplainable(zoo.Model, null), Kernels.Value!);
        foreach (var (method, file) in new[] { ("gradcam", "gradcam"), ("gradcam++", "gradcampp") })
        {
            var (expected, _) = Npy.Read(ZooModel.PathOf($"{name}.{file}.npy"));
            var result = explainer.Explain(CamMethods.Create(method), Tensor.FromArray(zoo.Input, zoo.InputShape), CamTarget.Class(zoo.TargetClass), zoo.TargetTensor);
            var map = result.NormalizedOf(0).ToArray();
            double r = Pearson(map, expected), maxDelta = map.Zip(expected).Max(p => Math.Abs(p.First - p.Second));
            output.WriteLine($"{name} {method} at {zoo.TargetTensor} for class {zoo.TargetClass}: Pearson r = {r:F5}, max |Δ| = {maxDelta:F4}");
            Assert.True(r >= 0.99, $"{name} {method}: Pearson r {r:F4} < 0.99");
            Assert.True(maxDelta <= 0.05, $"{name} {method}: max |Δ| {maxDelta:F4} > 0.05");
        }
    }

    [Theory]
    [MemberData(nameof(ModelsWithMaps))]
    public void GradCamAtTheDefaultLayer_MatchesPytorchGradCamAtTheStoredTarget(string name)
    {
        // The layer `nanocam layers` and `explain` pick when --layer is left out must be the feature map users hook in
        // pytorch-grad-cam (or a tensor that gives the same map: densenet's in-place ReLU after norm5).
        var zoo = ZooModel.Open(name);
        var explainable = new OnnxExplainable(zoo.Model, null);
        var explainer = new CamExplainer(explainable, Kernels.Value!);
        var (expected, _) = Npy.Read(ZooModel.PathOf($"{name}.gradcam.npy"));
        var result = explainer.Explain(CamMethods.Create("gradcam"), Tensor.FromArray(zoo.Input, zoo.InputShape), CamTarget.Class(zoo.TargetClass), explainable.DefaultLayer);
        var map = result.NormalizedOf(0).ToArray();
        double r = Pearson(map, expected);
        output.WriteLine($"{name}: default layer {explainable.DefaultLayer} (stored target {zoo.TargetTensor}): Pearson r = {r:F5}");
        Assert.True(r >= 0.99, $"{name}: Grad-CAM at the default layer {explainable.DefaultLayer}: Pearson r {r:F4} < 0.99");
    }

    [Theory]
    [MemberData(nameof(ModelsWithMaps))]
    public void TheStoredModulePath_NamesTheStoredTargetTensor(string name)
    {
        var zoo = ZooModel.Open(name);
        Assert.Equal(zoo.TargetTensor, zoo.Model.ResolveLayer(zoo.TargetModule));
    }

    private static float[] Run(OnnxModel model, float[] input)
    {
        var tape = new Tape(Kernels.Value!) { GradEnabled = false };
        return model.Run(tape, Tensor.FromArray(input, model.DeclaredInputDims())).ToArray();
    }

    /// <summary>max |actual − expected| over the largest |expected|, or over 1 when every expected value is 0 (vit_tiny: torchvision zeroes a ViT's head).</summary>
    internal static double MaxRelativeError(float[] actual, float[] expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = Math.Max(expected.Max(v => Math.Abs((double)v)), expected.All(v => v == 0) ? 1 : 0);
        return actual.Zip(expected).Max(p => Math.Abs((double)p.First - p.Second)) / scale;
    }

    internal static double Pearson(float[] a, float[] b)
    {
        double ma = a.Average(v => (double)v), mb = b.Average(v => (double)v), sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double da = a[i] - ma, db = b[i] - mb;
            sab += da * db;
            saa += da * da;
            sbb += db * db;
        }
        return sab / Math.Sqrt(saa * sbb);
    }
}

/// <summary>One model of shared/data/models/zoo with its PyTorch references (see the data README, section 7).</summary>
internal sealed record ZooModel(string Name, OnnxModel Model, float[] Input, int[] InputShape, float[] Logits, string TargetModule, string TargetTensor, int TargetClass)
{
    public static string PathOf(string file) => Path.Combine(Root.Value, file);

    private static readonly Lazy<string> Root = new(() =>
    {
        if (Environment.GetEnvironmentVariable("NANOCAM_DATA") is { Length: > 0 } env && Directory.Exists(env)) return Path.Combine(env, "models", "zoo");
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "data", "models", "zoo");
            if (Directory.Exists(candidate)) return candidate;
        }
        const string fallback = "/work/shared/data/models/zoo";
        return Directory.Exists(fallback) ? fallback : throw new DirectoryNotFoundException("shared/data/models/zoo not found; set NANOCAM_DATA");
    });

    public static ZooModel Open(string name)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(PathOf($"{name}.json")));
        var root = json.RootElement;
        var (input, shape) = Npy.Read(PathOf($"{name}.input.npy"));
        var (logits, _) = Npy.Read(PathOf($"{name}.logits.npy"));
        string Text(string key) => root.TryGetProperty(key, out var v) ? v.GetString()! : "";
        int targetClass = root.TryGetProperty("target_class", out var c) ? c.GetInt32() : -1;
        return new ZooModel(name, OnnxModel.Load(PathOf($"{name}.onnx")), input, shape, logits, Text("target_module"), Text("target_tensor"), targetClass);
    }
}
