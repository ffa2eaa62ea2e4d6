using Google.Protobuf;
using NanoCam.Autodiff;
using NanoCam.Cpu.Naive;
using NanoCam.Imaging;
using NanoCam.Onnx.Protos;

namespace NanoCam.Onnx.Tests;

/// <summary>
/// GAP surgery on the zoo's DenseNet (tiny): the new graph's logits equal the head computed by hand with plain loops
/// from the original model's cut tensor and the new initializers; what the cut does not need is pruned; bad cuts and
/// class counts are refused in one line.
/// </summary>
public sealed class GapSurgeryTests
{
    private static readonly string ModelPath = TestData.Path("models", "zoo", "densenet_tiny.onnx");

    private static (OnnxModel Original, string Cut) Original()
    {
        var original = OnnxModel.Load(ModelPath);
        return (original, original.DefaultCamLayer(original.OutputNames[0])!);
    }

    /// <summary>The zoo input and a second image (scaled and shifted) as one batch [2, C, H, W].</summary>
    private static (float[] Values, int[] Dims) TwoImages()
    {
        var (one, shape) = Npy.Read(TestData.Path("models", "zoo", "densenet_tiny.input.npy"));
        var values = new float[2 * one.Length];
        for (int i = 0; i < one.Length; i++) { values[i] = one[i]; values[one.Length + i] = 0.5f * one[i] + 0.1f; }
        return (values, [2, .. shape[1..]]);
    }

    private static float[] Initializer(ModelProto model, string name) =>
        OnnxTensors.Decode(model.Graph.Initializer.Single(i => i.Name == name), null, "test").ToFloatArray();

    [Theory]
    [InlineData(GapSurgeryPool.Average, 5)]
    [InlineData(GapSurgeryPool.Max, 5)]
    [InlineData(GapSurgeryPool.Average, 0)]
    public void Logits_EqualTheHeadComputedByHand_FromTheOriginalCutTensor(GapSurgeryPool pool, int units)
    {
        var (original, cut) = Original();
        const int classes = 3, kernel = 3;
        var result = GapSurgery.Apply(ModelPath, new GapSurgeryOptions(cut, classes) { ConvKernel = kernel, ConvUnits = units, Pool = pool, Seed = 7 });
        var surgered = OnnxModel.Load(result.Model.ToByteArray(), "surgery");
        Assert.Equal([GapSurgery.OutputName], surgered.OutputNames);
        Assert.Equal(-1, surgered.Inputs[0].Dims[0]);

        var (values, dims) = TwoImages();
        var logits = surgered.Run(new Tape(new NaiveKernels()) { GradEnabled = false }, Tensor.FromArray(values, dims));
        Assert.Equal([2, classes], logits.Shape.Dims.ToArray());
        var actual = logits.ToArray();

        int imageSize = values.Length / 2;
        var fcWeight = Initializer(result.Model, "head.fc.weight");
        var fcBias = Initializer(result.Model, "head.fc.bias");
        for (int n = 0; n < 2; n++)
        {
            // A: the original model's cut tensor for image n, captured on its own tape.
            var tape = new Tape(new NaiveKernels()) { GradEnabled = false };
            tape.Keep(cut);
            original.Run(tape, Tensor.FromArray(values[(n * imageSize)..((n + 1) * imageSize)], [1, .. dims[1..]]));
            var a = tape.Find(cut);
            int c = a.Shape[1], h = a.Shape[2], w = a.Shape[3];
            var maps = a.ToArray();
            if (units > 0)
            {
                maps = ConvRelu(maps, c, h, w, Initializer(result.Model, "head.conv.weight"), Initializer(result.Model, "head.conv.bias"), units, kernel);
                c = units;
            }
            var pooled = new float[c];
            for (int k = 0; k < c; k++)
            {
                var map = maps.AsSpan(k * h * w, h * w);
                pooled[k] = pool == GapSurgeryPool.Average ? Sum(map) / (h * w) : Max(map);
            }
            var expected = new float[classes];
            for (int j = 0; j < classes; j++)
            {
                expected[j] = fcBias[j];
                for (int k = 0; k < c; k++) expected[j] += fcWeight[j * c + k] * pooled[k];
            }
            float scale = expected.Max(MathF.Abs);
            Assert.True(scale > 1e-3f, $"logits too small to compare ({scale})");
            for (int j = 0; j < classes; j++)
                Assert.True(MathF.Abs(actual[n * classes + j] - expected[j]) <= 1e-4f * Math.Max(1f, scale),
                    $"image {n} class {j}: graph {actual[n * classes + j]}, by hand {expected[j]}");
        }

        // CAM reads the new classifier: the feature layer is the ReLU after the added conv (or the cut), the weights fc's.
        var head = surgered.FindCamHead(out var reason);
        Assert.True(head is not null, reason);
        Assert.Equal(units > 0 ? "head.relu" : cut, head.FeatureLayer);
        Assert.Equal(result.CamLayer, head.FeatureLayer);
        Assert.Equal(pool == GapSurgeryPool.Average ? "gap-linear" : "gmp-linear", head.Kind);
        Assert.Equal(fcWeight, head.Weights);
    }

    /// <summary>y[u,i,j] = ReLU(b[u] + Σ_c Σ_dy Σ_dx W[u,c,dy,dx] · A[c, i+dy−k/2, j+dx−k/2]) with zeros outside the map.</summary>
    private static float[] ConvRelu(float[] a, int channels, int h, int w, float[] weight, float[] bias, int units, int k)
    {
        var y = new float[units * h * w];
        for (int u = 0; u < units; u++)
            for (int i = 0; i < h; i++)
                for (int j = 0; j < w; j++)
                {
                    double s = bias[u];
                    for (int c = 0; c < channels; c++)
                        for (int dy = 0; dy < k; dy++)
                            for (int dx = 0; dx < k; dx++)
                            {
                                int yi = i + dy - k / 2, xj = j + dx - k / 2;
                                if (yi < 0 || yi >= h || xj < 0 || xj >= w) continue;
                                s += weight[((u * channels + c) * k + dy) * k + dx] * a[(c * h + yi) * w + xj];
                            }
                    y[(u * h + i) * w + j] = (float)Math.Max(0, s);
                }
        return y;
    }

    private static float Sum(ReadOnlySpan<float> values) { double s = 0; foreach (var v in values) s += v; return (float)s; }

    private static float Max(ReadOnlySpan<float> values) { float m = float.NegativeInfinity; foreach (var v in values) m = Math.Max(m, v); return m; }

    [Fact]
    public void Pruning_KeepsExactlyTheNodesTheCutNeeds_AndTheInitializersTheyRead()
    {
        var (original, cut) = Original();
        var result = GapSurgery.Apply(ModelPath, new GapSurgeryOptions(cut, 4) { ConvUnits = 8 });
        // The cut's ancestors, walked back through the original graph independently of the surgery.
        var needed = new HashSet<string>();
        var stack = new Stack<string>([cut]);
        while (stack.Count > 0)
            if (original.Producer(stack.Pop()) is { } node && needed.Add(node.Name))
                foreach (var input in node.Inputs) if (input.Length > 0) stack.Push(input);
        var graph = result.Model.Graph;
        var kept = graph.Node.Where(n => !n.Name.StartsWith("/head/", StringComparison.Ordinal)).Select(n => n.Name).ToList();
        Assert.Equal(original.Nodes.Where(n => needed.Contains(n.Name)).Select(n => n.Name), kept);
        Assert.True(result.RemovedNodes > 0);
        Assert.Equal(original.Nodes.Count - kept.Count, result.RemovedNodes);
        // Nothing after the cut remains: the old classifier and every node that reads the cut's descendants are gone.
        Assert.DoesNotContain(graph.Node, n => original.Nodes.Any(o => o.Name == n.Name && !needed.Contains(o.Name)));
        var read = graph.Node.SelectMany(n => n.Input).ToHashSet();
        Assert.All(graph.Initializer, i => Assert.Contains(i.Name, read));
        Assert.Equal(["head.conv.weight", "head.conv.bias", "head.fc.weight", "head.fc.bias"], graph.Initializer.Select(i => i.Name).Where(n => n.StartsWith("head.")));
        Assert.Equal(["Conv", "Relu", "GlobalAveragePool", "Flatten", "Gemm"], graph.Node.Skip(kept.Count).Select(n => n.OpType));
        // The head's nodes read as module paths.
        var surgered = OnnxModel.Load(result.Model.ToByteArray(), "surgery");
        Assert.Equal("head.relu", surgered.ResolveLayer("head.relu"));
        Assert.Equal("head.conv", surgered.ModulePaths.OutputOf("head.conv"));
        Assert.Equal(GapSurgery.OutputName, surgered.ModulePaths.OutputOf("head.fc"));
        // Kept parameters as the loaded model holds them, the head's by their shapes: 8·C·3·3 + 8 and 4·8 + 4.
        int channels = result.CutDims[1];
        // torch.onnx stores equal initializers once and copies them with Identity nodes: each copy counts, as in PyTorch.
        long stored = original.Parameters.Where(p => read.Contains(p.Key)).Sum(p => (long)p.Value.Shape.Size);
        long copies = graph.Node.Where(n => n.OpType == "Identity" && original.Parameters.ContainsKey(n.Input[0])).Sum(n => (long)original.Parameters[n.Input[0]].Shape.Size);
        Assert.Equal(stored + copies, result.KeptParameters);
        Assert.Equal(result.KeptParameters + 8 * channels * 9 + 8 + 4 * 8 + 4, result.TotalParameters);
    }

    [Fact]
    public void SurgeryOnASurgery_NamesItsHeadApart()
    {
        var (_, cut) = Original();
        var first = GapSurgery.Apply(ModelPath, new GapSurgeryOptions(cut, 4) { ConvUnits = 8 });
        var second = GapSurgery.Apply(first.Model.ToByteArray(), "first", null, new GapSurgeryOptions("head.relu", 3) { ConvUnits = 4 });
        Assert.Equal("head2.relu", second.CamLayer);
        Assert.Contains(second.Model.Graph.Node, n => n.Output.Contains(GapSurgery.OutputName));
        Assert.DoesNotContain(second.Model.Graph.Node, n => n.Name == "/head/fc/Gemm");
    }

    [Fact]
    public void UnknownLayer_IsRefused_ListingTheMapsToCutAfter()
    {
        var ex = Assert.Throws<ArgumentException>(() => GapSurgery.Apply(ModelPath, new GapSurgeryOptions("features.nosuch", 4)));
        Assert.Contains("names no layer", ex.Message);
        Assert.Contains("candidates", ex.Message);
        Assert.Contains("features.denseblock4", ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void LayerWithoutSpatialOutput_IsRefused()
    {
        var (original, _) = Original();
        var pooled = original.Nodes.Last(n => n.OpType is "GlobalAveragePool" or "AveragePool" or "Flatten").Outputs[0];
        var ex = Assert.Throws<ArgumentException>(() => GapSurgery.Apply(ModelPath, new GapSurgeryOptions(pooled, 4)));
        Assert.Contains("has no spatial output", ex.Message);
        Assert.Contains("candidates", ex.Message);
    }

    [Fact]
    public void FewerThanTwoClasses_AndAnEvenKernel_AreRefused()
    {
        var (_, cut) = Original();
        Assert.Contains("--classes must be at least 2, got 1", Assert.Throws<ArgumentException>(() => GapSurgery.Apply(ModelPath, new GapSurgeryOptions(cut, 1))).Message);
        Assert.Contains("must be odd", Assert.Throws<ArgumentException>(() => GapSurgery.Apply(ModelPath, new GapSurgeryOptions(cut, 3) { ConvKernel = 2 })).Message);
    }

    [Fact]
    public void AConstantBranch_ThatDoesNotReadTheInput_IsNotALayerToCutAfter()
    {
        // input → Relu → y; a Constant → Identity branch beside it (4-D, but no image flows through it).
        var graph = TestGraphs.Graph([
            TestGraphs.Node("Relu", "relu", ["x"], ["y"]),
            TestGraphs.Node("Identity", "ident", ["c"], ["z"]),
        ], "x", "y");
        graph.Input[0] = TestGraphs.FloatInfo("x", 1, 2, 4, 4);
        graph.Initializer.Add(TestGraphs.FloatTensor("c", [1, 2, 4, 4], new float[32]));
        var bytes = TestGraphs.Model(graph, 13).ToByteArray();
        var ex = Assert.Throws<ArgumentException>(() => GapSurgery.Apply(bytes, "tiny", null, new GapSurgeryOptions("z", 2)));
        Assert.Contains("does not depend on the input", ex.Message);
        var ok = GapSurgery.Apply(bytes, "tiny", null, new GapSurgeryOptions("y", 2) { ConvUnits = 3 });
        Assert.Equal([1, 2, 4, 4], ok.CutDims);
        Assert.Equal(1, ok.KeptNodes);
    }
}
