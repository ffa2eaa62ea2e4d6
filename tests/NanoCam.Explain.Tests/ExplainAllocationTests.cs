using NanoCam.Autodiff;
using NanoCam.Cpu.Simd;
using NanoCam.Explain.Methods;
using NanoCam.Explain.Tests.Zoo;
using NanoCam.Nn.Checkpoints;
using NanoCam.Nn.Models;
using NanoCam.Onnx;
using Xunit.Abstractions;

namespace NanoCam.Explain.Tests;

/// <summary>
/// A warm explanation pays for its result and nothing else: once the explainer has run a method on an image size, a
/// later call of a gradient or class-weight CAM allocates exactly the objects of the <see cref="CamResult"/> it returns
/// (its capture's activations, gradients, scores and classes, the weights, the four maps) — no maps, seeds, lists,
/// closures or tape buffers besides (a transformer's tokens: only their laid-out copies). One thread: the kernels then run on the calling thread, the only one
/// GetAllocatedBytesForCurrentThread counts.
/// </summary>
public sealed class ExplainAllocationTests(ITestOutputHelper output)
{
    private static readonly string[] Methods = ["gradcam", "cam", "gradcam++", "layercam", "xgradcam", "hirescam"];

    public static TheoryData<string> Models()
    {
        var data = new TheoryData<string> { "shapes-vgg", "SqueezeNet_fp32_from_fp16.onnx" };
        foreach (var path in Directory.GetFiles(ZooModel.PathOf(""), "*.onnx").Order(StringComparer.Ordinal)) data.Add(Path.GetFileName(path));
        return data;
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void WarmExplanation_AllocatesNothingBeyondItsResult(string file)
    {
        using var kernels = new SimdKernels(1);
        var (model, input) = Load(file, kernels);
        // A transformer (vit_tiny) is explained at its tokens laid out on their grid, as `nanocam explain --reshape-tokens` does.
        var explainer = new CamExplainer(model, kernels) { ReshapeTokens = model is OnnxExplainable { DefaultTokenLayer: not null } };
        int checkedMethods = 0;
        foreach (var name in Methods)
        {
            var method = CamMethods.Create(name);
            if (method.WhyNotApplicable(model, explainer.LayerFor(method, null)) is { } why)
            {
                output.WriteLine($"{file} {name}: not applicable ({why})");
                continue;
            }
            var target = CamTarget.TopPrediction();
            for (int warm = 0; warm < 2; warm++) explainer.Explain(method, input, target);
            // The fewest bytes of three warm calls, as FusionTests does: the runtime may allocate on the calling thread
            // now and then on its own account (a method moved to its optimized code).
            long allocated = long.MaxValue, owned = 0;
            for (int call = 0; call < 3; call++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                var result = explainer.Explain(method, input, target);
                long bytes = GC.GetAllocatedBytesForCurrentThread() - before;
                owned = ResultBytes(result) + WarningBytes(explainer.Warnings);
                allocated = Math.Min(allocated, bytes);
            }
            output.WriteLine($"{file} {name}: warm call {allocated:N0} B, its result {owned:N0} B{(explainer.Warnings.Count > 0 ? " (with its warnings)" : "")}");
            // A flat map's warning is formatted on the way (its message counted in the result, the formatting's few bytes not).
            if (explainer.Warnings.Count == 0) Assert.Equal(owned, allocated);
            else Assert.InRange(allocated, owned, owned + 256);
            checkedMethods++;
        }
        Assert.True(checkedMethods >= 5, $"only {checkedMethods} methods applied to {file}");
    }

    /// <summary>
    /// The taped pass of a transformer alone, forward and backward to its token layer (a Gather of the class token, a
    /// division of the attention scores by a rank-0 √d): nothing once warm, flat maps or not (vit_tiny's head is zero,
    /// so the explanation above is flat and its own check allows a warning's formatting bytes).
    /// </summary>
    [Fact]
    public void WarmTransformerGradientPass_AllocatesNothing()
    {
        using var kernels = new SimdKernels(1);
        var (model, input) = Load("vit_tiny.onnx", kernels);
        var onnx = (OnnxExplainable)model;
        string layer = onnx.ResolveLayer(onnx.DefaultTokenLayer!);
        var tape = new Tape(kernels) { ParameterGradients = false };
        var x = kernels.Stage(input);
        Tensor? seed = null;
        long fewest = long.MaxValue;
        for (int pass = 0; pass < 5; pass++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            tape.Reset();
            tape.ClearRequiredGradients();
            tape.RequireGradient(layer);
            var scores = model.Scores(tape, x);
            if (seed is null)
            {
                seed = kernels.Allocate(scores.Shape);
                kernels.Fill(seed, 1f);   // ∂(Σ_c y^c)
            }
            tape.Backward(scores, seed);
            if (pass >= 2) fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
            Assert.NotNull(tape.Find(layer).Grad);
        }
        Assert.Equal(0, fewest);
    }

    /// <summary>What the result's own objects take, measured by allocating a copy of each (the maps, the capture's arrays, the two records).</summary>
    private static long ResultBytes(CamResult result)
    {
        var c = result.Capture;
        Array?[] arrays = [c.Activations, c.Gradients, c.Scores, c.TargetClasses, result.ChannelWeights, result.WeightedSum, result.Map,
            result.Upsampled, result.Normalized, result.FlatMaps];
        long total = 0;
        foreach (var array in arrays.Where(a => a is not null).Distinct(ReferenceEqualityComparer.Instance).Cast<Array>())
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            GC.KeepAlive(array.Clone());
            total += GC.GetAllocatedBytesForCurrentThread() - before;
        }
        long records = GC.GetAllocatedBytesForCurrentThread();
        GC.KeepAlive(result with { });
        GC.KeepAlive(c with { });
        return total + GC.GetAllocatedBytesForCurrentThread() - records;
    }

    /// <summary>What the call's warnings take (a flat map is reported in a new message, the caller's to read).</summary>
    private static long WarningBytes(List<string> warnings)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var warning in warnings) GC.KeepAlive(new string(warning.AsSpan()));
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    private static (IExplainable Model, Tensor Input) Load(string file, SimdKernels kernels)
    {
        if (file == "shapes-vgg")
        {
            var path = RepositoryFiles.PathOf("weights/shapes-vgg.safetensors");
            var metadata = ModelMetadata.Load(ModelMetadata.PathFor(path));
            var network = (GapCnn)Architectures.Create(metadata.Architecture, metadata.InputChannels, metadata.Classes.Length, metadata.Seed);
            Checkpoint.Load(network, path);
            network.MoveTo(kernels);
            return (new ModuleExplainable(network), RandomImage(metadata.InputChannels, metadata.InputHeight, metadata.InputWidth));
        }
        var zoo = ZooModel.PathOf(file);
        var onnx = new OnnxExplainable(OnnxModel.Load(File.Exists(zoo) ? zoo : ZooModel.PathOf(Path.Combine("..", file))), null);
        var shape = onnx.InputShape;
        return (onnx, RandomImage(shape[1], shape[2], shape[3]));
    }

    private static Tensor RandomImage(int channels, int height, int width)
    {
        var rng = new Random(5);
        var values = new float[channels * height * width];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(rng.NextDouble() * 2 - 1);
        return Tensor.FromArray(values, 1, channels, height, width);
    }
}
