using Google.Protobuf;
using NanoCam.Autodiff;
using NanoCam.Cpu.Simd;
using NanoCam.Explain.Methods;
using NanoCam.Explain.Tests.Zoo;
using NanoCam.Imaging;
using NanoCam.Onnx;
using NanoCam.Onnx.Protos;
using Xunit.Abstractions;

namespace NanoCam.Explain.Tests;

/// <summary>
/// FullGrad on imported ONNX models whose biases are not a Conv's B input: MNIST's convolutions add theirs with an Add
/// node (CNTK's export), densenet_tiny's batch norms are BatchNormalization nodes. Each model is rewritten into its
/// twin — the Adds moved into the convolutions' B, each batch norm decomposed into Mul and Add of its scale and effective
/// bias — so the same network carries the same biases in another form; FullGrad must give the same map on both (the
/// Conv-bias form is the one checked against pytorch-grad-cam in <see cref="PyTorchGradCamParityTests"/>), and a map
/// without the bias terms must not.
/// </summary>
public sealed class OnnxFullGradTests(ITestOutputHelper output)
{
    private static readonly SimdKernels Kernels = new(threads: 2);

    [Fact]
    public void FullGrad_OnMnistOnnx_ReadsTheAddBiases_AsTheConvolutionBiasesTheyStandFor()
    {
        var path = ZooModel.PathOf(Path.Combine("..", "mnist.onnx"));
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        var original = new OnnxExplainable(OnnxModel.Load(path), null);
        var twin = new OnnxExplainable(OnnxModel.Load(AddsMovedIntoConvolutions(proto).ToByteArray(), "mnist-conv-bias"), null);

        // Conv (no B) → Add [K, 1, 1]: the Add's output is the layer, its constant the bias.
        Assert.Equal(["Plus30_Output_0", "Plus112_Output_0"], original.SpatialBiases.Select(b => b.Layer));
        Assert.Equal(original.SpatialBiases.Select(b => b.Bias), twin.SpatialBiases.Select(b => b.Bias));
        Assert.Equal(Initializer(proto, "Parameter6"), original.SpatialBiases[0].Bias);

        var input = Tensor.FromArray(File.ReadAllText(Path.Combine(Path.GetDirectoryName(path)!, "reference", "mnist_28.csv"))
            .Split(',', StringSplitOptions.TrimEntries).Select(float.Parse).ToArray(), [1, 1, 28, 28]);
        AssertSameFullGrad(original, twin, input, CamTarget.Class(8), "mnist");
    }

    [Fact]
    public void FullGrad_OnDensenetOnnx_ReadsTheBatchNormEffectiveBiases_AsTheMulAddTheyStandFor()
    {
        var zoo = ZooModel.Open("densenet_tiny");
        // torchvision initializes every batch norm to the identity (γ 1, β 0, μ 0, σ² 1), whose bias is 0: random ones here.
        var channels = zoo.Model.DescribeLayers().Where(l => l.OpType == "BatchNormalization").ToDictionary(l => l.Outputs[0], l => l.OutputShapes[0]![1]);
        var proto = WithRandomBatchNorms(ModelProto.Parser.ParseFrom(File.ReadAllBytes(ZooModel.PathOf("densenet_tiny.onnx"))), channels, seed: 5);
        var original = new OnnxExplainable(OnnxModel.Load(proto.ToByteArray(), "densenet-random-bn"), null);
        var (decomposed, effectiveBiases) = BatchNormsDecomposed(proto);
        var twin = new OnnxExplainable(OnnxModel.Load(decomposed.ToByteArray(), "densenet-mul-add"), null);

        // Every BatchNormalization: B − mean·scale/√(var + ε), recomputed here in double precision.
        Assert.Equal(effectiveBiases.Count, original.SpatialBiases.Count);
        Assert.Equal(effectiveBiases.Keys, original.SpatialBiases.Select(b => b.Layer));
        foreach (var bias in original.SpatialBiases)
            TestNets.AssertClose(effectiveBiases[bias.Layer], bias.Bias, 1e-5f);
        Assert.Equal(original.SpatialBiases.Select(b => b.Layer), twin.SpatialBiases.Select(b => b.Layer));

        AssertSameFullGrad(original, twin, Tensor.FromArray(zoo.Input, zoo.InputShape), CamTarget.Class(zoo.TargetClass), "densenet_tiny");
    }

    private void AssertSameFullGrad(OnnxExplainable original, OnnxExplainable twin, Tensor input, CamTarget target, string name)
    {
        var map = new CamExplainer(original, Kernels).Explain(new FullGrad(), input, target).NormalizedOf(0).ToArray();
        var twinMap = new CamExplainer(twin, Kernels).Explain(new FullGrad(), input, target).NormalizedOf(0).ToArray();
        var inputTermOnly = new CamExplainer(new WithoutBiases(original), Kernels).Explain(new FullGrad(), input, target).NormalizedOf(0).ToArray();
        double r = ZooModelTests.Pearson(map, twinMap), withoutBiases = ZooModelTests.Pearson(map, inputTermOnly);
        float worst = map.Zip(twinMap).Max(p => MathF.Abs(p.First - p.Second));
        output.WriteLine($"{name}: {original.SpatialBiases.Count} bias layers; against the twin r = {r:F6}, max |Δ| = {worst:E2}; "
            + $"against the input term alone r = {withoutBiases:F4}");
        Assert.True(r >= 0.99999 && worst <= 1e-3f, $"{name}: FullGrad differs from its twin's: r = {r}, max |Δ| = {worst}");
        Assert.True(withoutBiases < 0.99, $"{name}: the bias terms do not change the map (r = {withoutBiases} without them)");
    }

    private static float[] Initializer(ModelProto model, string name)
    {
        var tensor = model.Graph.Initializer.Single(t => t.Name == name);
        return tensor.FloatData.Count > 0 ? [.. tensor.FloatData]
            : Enumerable.Range(0, tensor.RawData.Length / 4).Select(i => BitConverter.ToSingle(tensor.RawData.Span.Slice(4 * i, 4))).ToArray();
    }

    private static TensorProto FloatTensor(string name, float[] values, params long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)OnnxDataType.Float };
        tensor.Dims.AddRange(dims);
        tensor.FloatData.AddRange(values);
        return tensor;
    }

    /// <summary>Conv(x, W) → Add(·, b [K, 1, 1]) becomes Conv(x, W, b [K]) writing the Add's output.</summary>
    private static ModelProto AddsMovedIntoConvolutions(ModelProto source)
    {
        var model = source.Clone();
        var graph = model.Graph;
        foreach (var conv in graph.Node.Where(n => n.OpType == "Conv").ToList())
        {
            var add = graph.Node.Single(n => n.Input.Contains(conv.Output[0]));
            Assert.Equal("Add", add.OpType);
            var biasName = add.Input.Single(i => i != conv.Output[0]);
            var bias = graph.Initializer.Single(t => t.Name == biasName);
            Assert.Equal([bias.Dims[0], 1L, 1L], bias.Dims);
            graph.Initializer.Add(FloatTensor($"{conv.Name}_B", Initializer(model, biasName), bias.Dims[0]));
            conv.Input.Add($"{conv.Name}_B");
            conv.Output[0] = add.Output[0];
            graph.Node.Remove(add);
        }
        return model;
    }

    /// <summary>Every BatchNormalization reads its own random γ ∈ [0.5, 1.5], β and μ ∈ [−0.5, 0.5], σ² ∈ [0.5, 1.5].</summary>
    private static ModelProto WithRandomBatchNorms(ModelProto source, Dictionary<string, int> channelsByOutput, int seed)
    {
        var model = source.Clone();
        var rng = new Random(seed);
        foreach (var norm in model.Graph.Node.Where(n => n.OpType == "BatchNormalization"))
        {
            int channels = channelsByOutput[norm.Output[0]];
            string[] parts = ["scale", "B", "mean", "var"];
            for (int i = 0; i < parts.Length; i++)
            {
                float low = parts[i] is "scale" or "var" ? 0.5f : -0.5f;
                var values = Enumerable.Range(0, channels).Select(_ => low + (float)rng.NextDouble()).ToArray();
                model.Graph.Initializer.Add(FloatTensor($"{norm.Name}_{parts[i]}", values, channels));
                norm.Input[i + 1] = $"{norm.Name}_{parts[i]}";
            }
        }
        return model;
    }

    /// <summary>
    /// BatchNormalization(x, scale, B, mean, var) becomes Mul(x, s) → Add(·, b) with s = scale/√(var + ε) and
    /// b = B − mean·s, each [1, K, 1, 1], computed in double; returns the model and b by the batch norm's output.
    /// </summary>
    private static (ModelProto Model, Dictionary<string, float[]> EffectiveBiases) BatchNormsDecomposed(ModelProto source)
    {
        var model = source.Clone();
        var graph = model.Graph;
        var biases = new Dictionary<string, float[]>();
        foreach (var norm in graph.Node.Where(n => n.OpType == "BatchNormalization").ToList())
        {
            var (scale, shift, mean, variance) = (Initializer(model, norm.Input[1]), Initializer(model, norm.Input[2]),
                Initializer(model, norm.Input[3]), Initializer(model, norm.Input[4]));
            double epsilon = norm.Attribute.SingleOrDefault(a => a.Name == "epsilon")?.F ?? 1e-5;
            int k = scale.Length;
            var s = Enumerable.Range(0, k).Select(c => scale[c] / Math.Sqrt(variance[c] + epsilon)).ToArray();
            var b = Enumerable.Range(0, k).Select(c => (float)(shift[c] - mean[c] * s[c])).ToArray();
            string output = norm.Output[0], scaled = $"{norm.Name}_scaled";
            graph.Initializer.Add(FloatTensor($"{norm.Name}_s", [.. s.Select(v => (float)v)], 1, k, 1, 1));
            graph.Initializer.Add(FloatTensor($"{norm.Name}_b", b, 1, k, 1, 1));
            var mul = new NodeProto { OpType = "Mul", Name = $"{norm.Name}_mul" };
            mul.Input.AddRange([norm.Input[0], $"{norm.Name}_s"]);
            mul.Output.Add(scaled);
            var add = new NodeProto { OpType = "Add", Name = $"{norm.Name}_add" };
            add.Input.AddRange([scaled, $"{norm.Name}_b"]);
            add.Output.Add(output);
            int index = graph.Node.IndexOf(norm);
            graph.Node[index] = mul;
            graph.Node.Insert(index + 1, add);
            biases[output] = b;
        }
        return (model, biases);
    }

    /// <summary>The model with no bias layers listed: FullGrad is then its input-gradient term alone.</summary>
    private sealed class WithoutBiases(IExplainable inner) : ForwardingExplainable(inner), ISpatialBiases
    {
        public IReadOnlyList<LayerBias> SpatialBiases => [];
    }
}
