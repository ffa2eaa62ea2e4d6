using NanoCam.Autodiff;
using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;
using NanoCam.Onnx.Protos;
using Xunit.Abstractions;
using static NanoCam.Onnx.Tests.TestGraphs;

namespace NanoCam.Onnx.Tests;

/// <summary>
/// The load-time rewrites of a no-grad pass (BatchNormalization folded into its Conv, activations in the convolution's
/// epilogue, concats written in place) against the unoptimized graph: the same model with <see cref="OnnxModel.Fuse"/>
/// off, where every node runs as its plain taped operator.
/// </summary>
public sealed class FusionTests(ITestOutputHelper output)
{
    /// <summary>The zoo's models, SqueezeNet, and any full-size exports in /work/fullsize or $NANOCAM_FUSION_MODELS.</summary>
    public static TheoryData<string> Models()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.GetFiles(TestData.Path("models", "zoo"), "*.onnx").Order(StringComparer.Ordinal)) data.Add(path);
        data.Add(TestData.Path("models", "SqueezeNet_fp32_from_fp16.onnx"));
        foreach (var folder in new[] { "/work/fullsize", Environment.GetEnvironmentVariable("NANOCAM_FUSION_MODELS") })
            if (folder is { Length: > 0 } && Directory.Exists(folder))
                foreach (var path in Directory.GetFiles(folder, "*.onnx").Order(StringComparer.Ordinal)) data.Add(path);
        return data;
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void FusedPass_GivesTheUnfusedLogits_WithinOneInTenToTheFifthOfTheLargest(string path)
    {
        var model = OnnxModel.Load(path);
        var kernels = new SimdKernels(1);
        var inputs = model.Inputs.ToDictionary(i => i.Name, i => OnnxValue.FromTensor(RandomInput(i, model.MaxBatch)));
        var fusedTape = new Tape(kernels) { GradEnabled = false };
        var fused = model.Run(fusedTape, inputs);
        model.Fuse = false;
        var plainTape = new Tape(kernels) { GradEnabled = false };
        var plain = model.Run(plainTape, inputs);
        double worst = 0;
        foreach (var name in model.OutputNames)
        {
            if (plain[name].Tensor is not { } expected) continue;
            var (e, a) = (expected.ToArray(), fused[name].Tensor!.ToArray());
            Assert.Equal(e.Length, a.Length);
            float scale = 1e-30f + e.Max(MathF.Abs);
            double diff = e.Zip(a, (x, y) => (double)Math.Abs(x - y)).Max() / scale;
            worst = Math.Max(worst, diff);
            Assert.True(diff <= 1e-5, $"{Path.GetFileName(path)} output {name}: max |fused − unfused| = {diff:G3} of max |logit| {scale:G4}");
        }
        var batchNorms = model.Nodes.Where(n => n.OpType == "BatchNormalization").ToArray();
        var after = batchNorms.GroupBy(n => model.Producer(n.Inputs[0])?.OpType ?? "input").Select(g => $"{g.Count()} after {g.Key}");
        output.WriteLine($"{Path.GetFileName(path)}: {batchNorms.Length} BatchNormalization nodes ({string.Join(", ", after)}); {model.Fusions}; tape nodes {fusedTape.Count} fused vs {plainTape.Count} unfused; max |Δ|/max|logit| = {worst:G3}");
        // A plan that folds anything records fewer nodes than the plain pass.
        if (model.Fusions.BatchNorms + model.Fusions.ActivationCount + model.Fusions.Concats + model.Fusions.GeluChains > 0) Assert.True(fusedTape.Count < plainTape.Count);
    }

    private static Tensor RandomInput(OnnxGraphInput input, int maxBatch)
    {
        var dims = input.Dims.Select((d, i) => d > 0 ? d : i == 0 ? 1 : 32).ToArray();
        if (maxBatch > 1 && dims.Length == 4) dims[0] = 2;
        var rng = new Random(12345);
        var t = Tensor.Zeros(dims);
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = (float)(rng.NextDouble() * 4 - 2);
        return t;
    }

    /// <summary>
    /// x → Conv → BN → Clip(0, 6) ─┐
    ///   → Conv → BN → Mul(·, Sigmoid(·)) ─ Concat → Conv → HardSwish → Conv → Mul(·, HardSigmoid(·)) → Conv → LeakyRelu → y,
    /// every Conv with a bias, every BN with statistics far from (0, 1).
    /// </summary>
    private static OnnxModel ChainModel(int opset = 14)
    {
        var rng = new Random(7);
        var graph = new GraphProto { Name = "chain" };
        float[] Values(int n, double low, double high) => [.. Enumerable.Range(0, n).Select(_ => (float)(low + rng.NextDouble() * (high - low)))];
        void Conv(string name, string input, int inChannels, int outChannels)
        {
            graph.Initializer.Add(FloatTensor($"{name}.w", [outChannels, inChannels, 3, 3], Values(outChannels * inChannels * 9, -0.4, 0.4)));
            graph.Initializer.Add(FloatTensor($"{name}.b", [outChannels], Values(outChannels, -0.3, 0.3)));
            graph.Node.Add(Node("Conv", name, [input, $"{name}.w", $"{name}.b"], [name], ("pads", new[] { 1, 1, 1, 1 })));
        }
        void BatchNorm(string name, string input, int channels)
        {
            graph.Initializer.Add(FloatTensor($"{name}.scale", [channels], Values(channels, 0.5, 2)));
            graph.Initializer.Add(FloatTensor($"{name}.bias", [channels], Values(channels, -1, 1)));
            graph.Initializer.Add(FloatTensor($"{name}.mean", [channels], Values(channels, -0.5, 0.5)));
            graph.Initializer.Add(FloatTensor($"{name}.var", [channels], Values(channels, 0.2, 3)));
            graph.Node.Add(Node("BatchNormalization", name, [input, $"{name}.scale", $"{name}.bias", $"{name}.mean", $"{name}.var"], [name], ("epsilon", 1e-3f)));
        }
        Conv("c1", "x", 3, 4);
        BatchNorm("bn1", "c1", 4);
        graph.Initializer.Add(FloatTensor("six", [], [6f]));
        graph.Initializer.Add(FloatTensor("zero", [], [0f]));
        graph.Node.Add(Node("Clip", "relu6", ["bn1", "zero", "six"], ["a1"]));
        Conv("c2", "x", 3, 5);
        BatchNorm("bn2", "c2", 5);
        graph.Node.Add(Node("Sigmoid", "gate2", ["bn2"], ["g2"]));
        graph.Node.Add(Node("Mul", "silu2", ["bn2", "g2"], ["a2"]));
        graph.Node.Add(Node("Concat", "cat", ["a1", "a2"], ["cat"], ("axis", 1)));
        Conv("c3", "cat", 9, 6);
        graph.Node.Add(Node("HardSwish", "hswish3", ["c3"], ["a3"]));
        Conv("c4", "a3", 6, 6);
        graph.Node.Add(Node("HardSigmoid", "gate4", ["c4"], ["g4"], ("alpha", 1f / 6), ("beta", 0.5f)));
        graph.Node.Add(Node("Mul", "hswish4", ["g4", "c4"], ["a4"]));
        Conv("c5", "a4", 6, 3);
        graph.Node.Add(Node("LeakyRelu", "leaky5", ["c5"], ["y"], ("alpha", 0.1f)));
        graph.Input.Add(FloatInfo("x", 1, 3, 10, 10));
        graph.Output.Add(new ValueInfoProto { Name = "y" });
        return Load(graph, opset);
    }

    private static readonly Tensor ChainInput = Tensor.FromArray([.. Enumerable.Range(0, 300).Select(i => MathF.Sin(i * 0.37f) * 3f)], 1, 3, 10, 10);

    private static float[] Run(OnnxModel model, IKernels kernels, out Tape tape, Action<Tape>? observe = null)
    {
        tape = new Tape(kernels) { GradEnabled = false };
        observe?.Invoke(tape);
        return model.Run(tape, ChainInput).ToArray();
    }

    [Fact]
    public void ChainModel_FoldsEveryBatchNormAndActivation_AndCountsThem()
    {
        var model = ChainModel();
        var summary = model.Fusions;
        Assert.Equal(5, summary.Convolutions);
        Assert.Equal(2, summary.BatchNorms);
        Assert.Equal(1, summary.Concats);
        Assert.Equal(new Dictionary<string, int> { ["Clip"] = 1, ["Silu"] = 1, ["HardSwish"] = 1, ["HardSigmoidGate"] = 1, ["LeakyRelu"] = 1 },
            summary.Activations.OrderBy(a => a.Key).ToDictionary());

        foreach (var kernels in new IKernels[] { NaiveKernels.Instance, new SimdKernels(1), new SimdKernels(2) })
        {
            var fused = Run(model, kernels, out var tape);
            model.Fuse = false;
            var plain = Run(model, kernels, out var plainTape);
            model.Fuse = true;
            AssertClose(plain, fused, 1e-5f);
            // Only the five convolutions (and the concat they write) run: no BN, gate, Mul or activation node.
            Assert.Equal(5, tape.Count);
            Assert.True(plainTape.Count >= 15, $"unfused pass recorded {plainTape.Count} nodes");
            foreach (var gone in new[] { "c1", "bn1", "c2", "bn2", "g2", "a1", "a2", "c3", "c4", "g4", "c5" }) Assert.False(tape.Named.ContainsKey(gone), gone);
            Assert.True(tape.Named.ContainsKey("cat"));
        }
    }

    [Fact]
    public void ObservedTensors_StopTheChain_AndKeepTheirUnfusedValues()
    {
        var model = ChainModel();
        var kernels = new SimdKernels(1);
        model.Fuse = false;
        var plain = Run(model, kernels, out var plainTape);
        model.Fuse = true;
        // bn2 kept: its BN folds but its SiLU runs; c1 kept: nothing of its chain folds; g4 hooked: the gate runs.
        float[]? gate = null;
        var fused = Run(model, kernels, out var tape, t =>
        {
            t.Keep("bn2");
            t.Keep("c1");
            t.AddForwardHook("g4", g => gate = g.ToArray());
        });
        AssertClose(plain, fused, 1e-5f);
        foreach (var name in new[] { "bn2", "c1", "bn1", "a2", "a1" }) AssertClose(plainTape.Find(name).ToArray(), tape.Find(name).ToArray(), 1e-5f);
        Assert.NotNull(gate);
        AssertClose(plainTape.Find("g4").ToArray(), gate, 1e-5f);
        Assert.False(tape.Named.ContainsKey("c2"));
        Assert.False(tape.Named.ContainsKey("c3"));
    }

    [Fact]
    public void FoldedBatchNorm_LeavesTheParametersAlone_AndFollowsParametersChanged()
    {
        var model = ChainModel();
        var kernels = new SimdKernels(1);
        var before = model.Parameters.ToDictionary(p => p.Key, p => p.Value.ToArray());
        Run(model, kernels, out _);
        foreach (var (name, values) in before) Assert.Equal(values, model.Parameters[name].ToArray());

        var gamma = model.Parameters["bn1.scale"].Span;
        for (int i = 0; i < gamma.Length; i++) gamma[i] *= -1.5f;
        var mean = model.Parameters["bn2.mean"].Span;
        for (int i = 0; i < mean.Length; i++) mean[i] += 0.75f;
        model.ParametersChanged();
        var fused = Run(model, kernels, out _);
        model.Fuse = false;
        var plain = Run(model, kernels, out _);
        AssertClose(plain, fused, 1e-5f);
    }

    [Fact]
    public void FuseOff_RunsEveryNodeAsItsOperator_AndAGradientPassNeverFuses()
    {
        var model = ChainModel();
        model.Fuse = false;
        Run(model, new SimdKernels(1), out var tape);
        Assert.True(tape.Named.ContainsKey("bn1") && tape.Named.ContainsKey("g2") && tape.Named.ContainsKey("c5"));
        model.Fuse = true;
        var gradTape = new Tape(new SimdKernels(1));
        model.Run(gradTape, ChainInput);
        Assert.True(gradTape.Named.ContainsKey("bn1") && gradTape.Named.ContainsKey("c1"));
    }

    [Fact]
    public void TrainingModeBatchNorm_AndNonConstantClipBounds_AreNotFolded()
    {
        var graph = new GraphProto { Name = "unfoldable" };
        graph.Initializer.Add(FloatTensor("w", [2, 1, 1, 1], [1f, 2f]));
        foreach (var n in new[] { "s", "b", "m", "v" }) graph.Initializer.Add(FloatTensor(n, [2], [1f, 0.5f]));
        graph.Node.Add(Node("Conv", "conv", ["x", "w"], ["c"]));
        graph.Node.Add(Node("BatchNormalization", "bn", ["c", "s", "b", "m", "v"], ["n"], ("training_mode", 1)));
        graph.Node.Add(Node("Conv", "conv2", ["n", "w2"], ["c2"], ("group", 2)));
        graph.Initializer.Add(FloatTensor("w2", [2, 1, 1, 1], [1f, -1f]));
        graph.Node.Add(Node("ReduceMax", "top", ["x"], ["high"], ("keepdims", 0)));
        graph.Node.Add(Node("Clip", "clip", ["c2", "", "high"], ["y"]));
        graph.Input.Add(FloatInfo("x", 1, 1, 3, 3));
        graph.Output.Add(new ValueInfoProto { Name = "y" });
        var model = Load(graph, 15);
        Assert.Equal(0, model.Fusions.BatchNorms);
        Assert.Equal(0, model.Fusions.ActivationCount);
    }

    [Theory]
    [InlineData("mobilenet_v3_small_op13.onnx", 1)]
    [InlineData("mobilenet_v3_small_op17_dynamic.onnx", 2)]
    public void SqueezeExcitationScale_InPlace_GivesTheUnfusedLogits_AndLeavesAnObservedMapAlone(string file, int batch)
    {
        var model = OnnxModel.Load(TestData.Path("models", "zoo", file));
        // MobileNet v3 small has nine squeeze-excitation blocks: pool → 1×1 conv → ReLU → 1×1 conv → HardSigmoid → Mul(scale, map).
        Assert.Equal(9, model.Fusions.ScalesInPlace);
        var scales = model.Nodes.Where(n => n.OpType == "Mul" && n.Inputs.Any(i => model.Producer(i)?.OpType is "HardSigmoid" or "Sigmoid")
            && n.Inputs.Any(i => model.Consumers(i).Any(c => c.OpType is "GlobalAveragePool" or "ReduceMean"))).ToArray();
        Assert.Equal(9, scales.Length);
        var map = scales[0].Inputs.First(i => model.Consumers(i).Any(c => c.OpType is "GlobalAveragePool" or "ReduceMean"));
        using var kernels = new SimdKernels(1);
        var input = RandomInput(model.Inputs[0], batch);
        model.Fuse = false;
        var plainTape = new Tape(kernels) { GradEnabled = false };
        var plain = model.Run(plainTape, input).ToArray();
        var plainMap = plainTape.Find(map).ToArray();
        model.Fuse = true;
        var fusedTape = new Tape(kernels) { GradEnabled = false };
        for (int pass = 0; pass < 2; pass++)
        {
            fusedTape.Reset();
            AssertClose(plain, model.Run(fusedTape, input).ToArray(), 1e-5f);
            // The map was overwritten with the product: its name is not published, the product's is.
            Assert.False(fusedTape.Named.ContainsKey(map));
            Assert.True(fusedTape.Named.ContainsKey(scales[0].Outputs[0]));
        }
        // Observed, the map keeps its own values (the Mul runs as usual), and the logits are the same.
        var observing = new Tape(kernels) { GradEnabled = false };
        observing.Keep(map);
        AssertClose(plain, model.Run(observing, input).ToArray(), 1e-5f);
        AssertClose(plainMap, observing.Find(map).ToArray(), 1e-6f);
    }

    /// <summary>The zoo's models and SqueezeNet (the shared data; like the other zoo tests, these need /work/shared/data).</summary>
    public static TheoryData<string> ZooModels()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.GetFiles(TestData.Path("models", "zoo"), "*.onnx").Order(StringComparer.Ordinal)) data.Add(Path.GetFileName(path));
        data.Add("SqueezeNet_fp32_from_fp16.onnx");
        return data;
    }

    [Theory]
    [MemberData(nameof(ZooModels))]
    public void WarmNoGradPass_AllocatesNothing(string file)
    {
        // After the first pass the tape holds every node's output buffer, and the executor its environment, argument
        // lists, wrappers and the plan's per-pass state: a later pass with the same input shape allocates not one byte.
        // One thread: the kernels then run on the calling thread (GetAllocatedBytesForCurrentThread counts no other).
        var path = File.Exists(TestData.Path("models", "zoo", file)) ? TestData.Path("models", "zoo", file) : TestData.Path("models", file);
        var model = OnnxModel.Load(path);
        using var kernels = new SimdKernels(1);
        var input = RandomInput(model.Inputs[0], 1);
        var tape = new Tape(kernels) { GradEnabled = false };
        long first = 0, fewest = long.MaxValue;
        for (int pass = 0; pass < 4; pass++)
        {
            tape.Reset();
            long before = GC.GetAllocatedBytesForCurrentThread();
            model.Run(tape, input);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (pass == 0) first = allocated;
            else fewest = Math.Min(fewest, allocated);
        }
        // The same through Scores (what explanations call) and with fusing off (the plain taped operators).
        long scores = long.MaxValue;
        for (int pass = 0; pass < 3; pass++)
        {
            tape.Reset();
            long scoresBefore = GC.GetAllocatedBytesForCurrentThread();
            model.Scores(tape, input);
            scores = Math.Min(scores, GC.GetAllocatedBytesForCurrentThread() - scoresBefore);
        }
        output.WriteLine($"{file}: first pass {first:N0} B, each warm pass {fewest:N0} B, warm Scores {scores:N0} B; {model.Fusions}");
        if (fewest > 0) output.WriteLine(AllocationsByNode(model, tape, input));
        Assert.Equal(0, fewest);
        Assert.Equal(0, scores);
        model.Fuse = false;
        var plainTape = new Tape(kernels) { GradEnabled = false };
        for (int pass = 0; pass < 2; pass++) { plainTape.Reset(); model.Run(plainTape, input); }
        // The fewest of three warm passes, as above: a one-off allocation of the runtime on this thread (tiering a
        // method up) is not the executor's (a fresh clone's CI once read 472 B here, no node allocating, then 0 B).
        long plain = long.MaxValue;
        for (int pass = 0; pass < 3; pass++)
        {
            plainTape.Reset();
            long plainBefore = GC.GetAllocatedBytesForCurrentThread();
            model.Run(plainTape, input);
            plain = Math.Min(plain, GC.GetAllocatedBytesForCurrentThread() - plainBefore);
        }
        output.WriteLine($"{file}: unfused warm pass {plain:N0} B");
        if (plain > 0) output.WriteLine(AllocationsByNode(model, plainTape, input));
        Assert.Equal(0, plain);
    }

    /// <summary>A warm pass's allocations by node (op type, name, bytes), largest first: where a failing pass allocates.</summary>
    private static string AllocationsByNode(OnnxModel model, Tape tape, Tensor input)
    {
        if (typeof(OnnxModel).GetProperty("AllocationProbe", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static) is not { } field) return "";
        var seen = new List<(OnnxNode Node, long Bytes)>(4096);
        field.SetValue(null, new Action<OnnxNode, long>((node, bytes) => { if (bytes > 0) seen.Add((node, bytes)); }));
        try
        {
            tape.Reset();
            model.Run(tape, input);
        }
        finally { field.SetValue(null, null); }
        var byOp = seen.GroupBy(s => s.Node.OpType).Select(g => $"{g.Key} {g.Sum(s => s.Bytes):N0} B in {g.Count()} nodes (e.g. {g.First().Node.Name} {g.First().Bytes} B)");
        return "  by op: " + string.Join("; ", byOp) + $"; outside the nodes: see the total";
    }

    private static void AssertClose(float[] expected, float[] actual, float relative)
    {
        Assert.Equal(expected.Length, actual.Length);
        float scale = 1e-30f + expected.Max(MathF.Abs);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= relative * scale, $"element {i}: {actual[i]:G7}, expected {expected[i]:G7}");
    }
}
