using NanoCam.Autodiff;
using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;
using NanoCam.Onnx.Protos;
using Xunit.Abstractions;
using static NanoCam.Onnx.Tests.TestGraphs;

namespace NanoCam.Onnx.Tests;

/// <summary>
/// The exported GELU chain run as one Gelu node, and LayerNormalization run as one kernel, against the same models with
/// <see cref="OnnxModel.Fuse"/> off (every node its plain taped operator): the zoo's transformers, and small graphs with
/// each way of writing the chain, checked against x·Φ(x) computed here in double.
/// </summary>
public sealed class GeluLayerNormFusionTests(ITestOutputHelper output)
{
    private static readonly Random Rng = new(24);

    private static Dictionary<string, OnnxValue> ZooInput(OnnxModel model)
    {
        var input = model.Inputs[0];
        var dims = input.Dims.Select(d => d > 0 ? d : 1).ToArray();
        var t = Tensor.Zeros(dims);
        var rng = new Random(7);
        for (int i = 0; i < t.Size; i++) t.Span[i] = (float)(rng.NextDouble() * 4 - 2);
        return new() { [input.Name] = OnnxValue.FromTensor(t) };
    }

    private static double RelativeDifference(Tensor expected, Tensor actual)
    {
        var (e, a) = (expected.ToArray(), actual.ToArray());
        Assert.Equal(e.Length, a.Length);
        return e.Zip(a, (x, y) => (double)Math.Abs(x - y)).Max() / (1e-30 + e.Max(MathF.Abs));
    }

    /// <summary>The class head's input (vit_tiny's head is zero, as torchvision initializes it: its logits are all 0).</summary>
    private static string Features(OnnxModel model) => model.Producer(model.OutputNames[0])!.Inputs[0];

    private static int CountKind(Tape tape, string kind) => tape.Nodes.Count(n => n.Kind == kind);

    [Theory]
    [InlineData("convnext_tiny_narrow.onnx", 4, 7)]
    [InlineData("vit_tiny.onnx", 2, 5)]
    public void FusedGeluAndLayerNorm_GiveThePlainLogits_WithinOneInTenToTheFifth(string file, int chains, int layerNorms)
    {
        var model = OnnxModel.Load(TestData.Path("models", "zoo", file));
        Assert.Equal(chains, model.Fusions.GeluChains);
        var kernels = new SimdKernels(1);
        var inputs = ZooInput(model);
        var fusedTape = new Tape(kernels) { GradEnabled = false };
        var fused = model.Run(fusedTape, inputs)[model.OutputNames[0]].Tensor!;
        model.Fuse = false;
        var plainTape = new Tape(kernels) { GradEnabled = false };
        var plain = model.Run(plainTape, inputs)[model.OutputNames[0]].Tensor!;
        double diff = RelativeDifference(plain, fused), features = RelativeDifference(plainTape.Find(Features(model)), fusedTape.Find(Features(model)));
        output.WriteLine($"{file}: {model.Fusions}; tape nodes {fusedTape.Count} fused vs {plainTape.Count}; max |Δ|/max: logits {diff:G3}, head input {features:G3}");
        Assert.True(diff <= 1e-5, $"{file}: logits {diff:G3}");
        Assert.True(features > 0 && features <= 1e-5, $"{file}: head input {features:G3}");
        Assert.Equal((chains, 0, layerNorms), (CountKind(fusedTape, "Gelu"), CountKind(fusedTape, "Erf"), CountKind(fusedTape, "LayerNormalization")));
        Assert.Equal((0, chains, 0), (CountKind(plainTape, "Gelu"), CountKind(plainTape, "Erf"), CountKind(plainTape, "LayerNormalization")));
    }

    [Fact]
    public void ObservedIntermediate_KeepsItsChainPlain_AndItsValue()
    {
        var model = OnnxModel.Load(TestData.Path("models", "zoo", "vit_tiny.onnx"));
        var erf = model.Nodes.First(n => n.OpType == "Erf");
        var kernels = new SimdKernels(1);
        var inputs = ZooInput(model);
        model.Fuse = false;
        var plainTape = new Tape(kernels) { GradEnabled = false };
        model.Run(plainTape, inputs);
        model.Fuse = true;
        float[]? hooked = null;
        var tape = new Tape(kernels) { GradEnabled = false };
        tape.AddForwardHook(erf.Outputs[0], t => hooked = t.ToArray());
        model.Run(tape, inputs);
        Assert.True(RelativeDifference(plainTape.Find(Features(model)), tape.Find(Features(model))) <= 1e-5);
        Assert.NotNull(hooked);
        // Its value is the plain chain's (up to the one-kernel LayerNormalization before it).
        Assert.True(RelativeDifference(plainTape.Find(erf.Outputs[0]), Tensor.FromArray(hooked, hooked.Length)) <= 1e-5);
        Assert.Equal((1, 1), (CountKind(tape, "Gelu"), CountKind(tape, "Erf")));
        // The other chain's intermediates are fused away.
        var other = model.Nodes.Last(n => n.OpType == "Erf");
        Assert.False(tape.Named.ContainsKey(other.Outputs[0]));
    }

    [Fact]
    public void GradientPass_RunsTheChainAsOneGelu_WithThePlainGradient()
    {
        var model = OnnxModel.Load(TestData.Path("models", "zoo", "vit_tiny.onnx"));
        var kernels = new SimdKernels(1);
        var inputs = ZooInput(model);
        var name = model.Inputs[0].Name;
        // Seeded at the head's input (the zero head would pass no gradient): a fixed random direction.
        (Tensor Features, float[] Gradient, Tape Tape) Pass(bool fuse)
        {
            model.Fuse = fuse;
            var tape = new Tape(kernels) { ParameterGradients = false };
            tape.RequireGradient(name);
            model.Run(tape, inputs);
            var features = tape.Find(Features(model));
            var seed = Tensor.Zeros(features.Shape.ToArray());
            var rng = new Random(5);
            for (int i = 0; i < seed.Size; i++) seed.Span[i] = (float)(rng.NextDouble() - 0.5);
            tape.Backward(features, seed);
            return (features, tape.Find(name).Grad!.ToArray(), tape);
        }
        var plain = Pass(false);
        var fused = Pass(true);
        Assert.Equal(2, CountKind(fused.Tape, "Gelu"));
        Assert.Equal(0, CountKind(plain.Tape, "Gelu"));
        Assert.True(RelativeDifference(plain.Features, fused.Features) <= 1e-5);
        double diff = RelativeDifference(Tensor.FromArray(plain.Gradient, plain.Gradient.Length), Tensor.FromArray(fused.Gradient, fused.Gradient.Length));
        output.WriteLine($"input gradient: max |Δ|/max = {diff:G3}");
        Assert.True(diff > 0 && diff <= 1e-5, $"input gradient differs by {diff:G3}");
    }

    /// <summary>0.5·x·(1 + erf(x/√2)) written three ways, with √2 and 1/√2 and swapped operands.</summary>
    public static TheoryData<string> Spellings => ["div-x·erf-half", "mul-erf·half-x", "halfx-erf"];

    [Theory]
    [MemberData(nameof(Spellings))]
    public void EveryExportedSpelling_IsOneGelu_AndComputesXPhiOfX(string spelling)
    {
        var constants = new List<NodeProto>
        {
            Constant("sqrt2", MathF.Sqrt(2f)), Constant("rsqrt2", 1f / MathF.Sqrt(2f)), Constant("one", 1f), Constant("half", 0.5f),
        };
        NodeProto[] chain = spelling switch
        {
            "div-x·erf-half" =>
            [
                Node("Div", "div", ["x", "sqrt2"], ["s"]), Node("Erf", "erf", ["s"], ["e"]), Node("Add", "add", ["e", "one"], ["a"]),
                Node("Mul", "mul1", ["x", "a"], ["m"]), Node("Mul", "mul2", ["m", "half"], ["y"]),
            ],
            "mul-erf·half-x" =>
            [
                Node("Mul", "scale", ["rsqrt2", "x"], ["s"]), Node("Erf", "erf", ["s"], ["e"]), Node("Add", "add", ["one", "e"], ["a"]),
                Node("Mul", "mul1", ["half", "a"], ["m"]), Node("Mul", "mul2", ["m", "x"], ["y"]),
            ],
            _ =>
            [
                Node("Mul", "halfx", ["x", "half"], ["h"]), Node("Div", "div", ["x", "sqrt2"], ["s"]), Node("Erf", "erf", ["s"], ["e"]),
                Node("Add", "add", ["e", "one"], ["a"]), Node("Mul", "mul", ["a", "h"], ["y"]),
            ],
        };
        var graph = Graph([.. constants, .. chain], "x", "y");
        graph.Input[0] = FloatInfo("x", 3, 1000);
        var model = Load(graph, 13);
        Assert.Equal(1, model.Fusions.GeluChains);
        var x = Tensor.Zeros(3, 1000);
        for (int i = 0; i < x.Size; i++) x.Span[i] = -9f + 18f * i / (x.Size - 1);
        foreach (var kernels in new IKernels[] { new SimdKernels(1), NaiveKernels.Instance })
        {
            var tape = new Tape(kernels) { GradEnabled = false };
            var y = model.Run(tape, x).ToArray();
            Assert.Equal(1, CountKind(tape, "Gelu"));
            Assert.False(tape.Named.ContainsKey("e"));
            for (int i = 0; i < x.Size; i++)
            {
                double v = x.Span[i], expected = v * (v >= 0 ? 0.5 + 0.5 * Elementwise.ScalarMath.ErfDouble(v / Math.Sqrt(2)) : 0.5 * Elementwise.ScalarMath.ErfcDouble(-v / Math.Sqrt(2)));
                Assert.True(Math.Abs(y[i] - expected) <= 1e-6 * Math.Abs(expected) + 1e-37, $"{spelling} on {kernels.Name}: GELU({v:R}) = {y[i]:R}, expected {expected:R}");
            }
        }
        model.Fuse = false;
        var plainTape = new Tape(new SimdKernels(1)) { GradEnabled = false };
        model.Run(plainTape, x);
        Assert.Equal((0, 1), (CountKind(plainTape, "Gelu"), CountKind(plainTape, "Erf")));
    }

    [Fact]
    public void AChainWhoseIntermediateHasAnotherReader_OrAWrongConstant_IsNotMatched()
    {
        NodeProto[] nodes =
        [
            Constant("sqrt2", MathF.Sqrt(2f)), Constant("one", 1f), Constant("half", 0.5f), Constant("third", 1f / 3),
            Node("Div", "div", ["x", "sqrt2"], ["s"]), Node("Erf", "erf", ["s"], ["e"]), Node("Add", "add", ["e", "one"], ["a"]),
            Node("Mul", "mul1", ["x", "a"], ["m"]), Node("Mul", "mul2", ["m", "half"], ["g"]),
            // A second reader of the Erf output: the chain is not one GELU any more.
            Node("Add", "extra", ["e", "g"], ["y"]),
        ];
        Assert.Equal(0, Load(Graph(nodes, "x", "y"), 13).Fusions.GeluChains);
        nodes[8] = Node("Mul", "mul2", ["m", "third"], ["g"]);
        nodes[9] = Node("Identity", "extra", ["g"], ["y"]);
        Assert.Equal(0, Load(Graph(nodes, "x", "y"), 13).Fusions.GeluChains);
    }

    private static NodeProto Constant(string name, float value)
    {
        var node = Node("Constant", name, [], [name]);
        node.Attribute.Add(new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = FloatTensor(name, [], [value]) });
        return node;
    }
}
