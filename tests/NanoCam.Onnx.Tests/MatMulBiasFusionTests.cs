using NanoCam.Autodiff;
using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;
using NanoCam.Onnx.Protos;
using static NanoCam.Onnx.Tests.TestGraphs;

namespace NanoCam.Onnx.Tests;

/// <summary>
/// A MatMul by a constant weight and the Add of a bias that alone reads it run as one node in a fused no-grad pass
/// (the bias copied into the rows, the product accumulated onto it): against the plain MatMul and Add on the naive
/// kernels, for the bias on either side of the Add, given as an initializer or through an Identity, inputs of rank 2 to
/// 4; left alone when the product is observed, when the "bias" is not one value per column, and in gradient passes.
/// </summary>
public sealed class MatMulBiasFusionTests
{
    private static OnnxModel Model(int k, int n, int[] biasDims, bool biasFirst, bool throughIdentity)
    {
        var rng = new Random(k * 100 + n);
        var graph = new GraphProto { Name = "matmul-bias" };
        graph.Initializer.Add(FloatTensor("w", [k, n], [.. Enumerable.Range(0, k * n).Select(_ => (float)(rng.NextDouble() - 0.5))]));
        int biasSize = biasDims.Aggregate(1, (p, d) => p * d);
        graph.Initializer.Add(FloatTensor("b", biasDims, [.. Enumerable.Range(0, biasSize).Select(_ => (float)(rng.NextDouble() * 4 - 2))]));
        string bias = "b";
        if (throughIdentity)
        {
            graph.Node.Add(Node("Identity", "bias", ["b"], ["b1"]));
            bias = "b1";
        }
        graph.Node.Add(Node("MatMul", "mm", ["x", "w"], ["p"]));
        graph.Node.Add(Node("Add", "add", biasFirst ? [bias, "p"] : ["p", bias], ["y"]));
        graph.Input.Add(new ValueInfoProto { Name = "x" });
        graph.Output.Add(new ValueInfoProto { Name = "y" });
        return Load(graph, 13);
    }

    private static Tensor Input(int[] dims, int seed)
    {
        var rng = new Random(seed);
        return Tensor.FromArray([.. Enumerable.Range(0, dims.Aggregate(1, (p, d) => p * d)).Select(_ => (float)(rng.NextDouble() * 2 - 1))], dims);
    }

    private static float[] Plain(OnnxModel model, Tensor x)
    {
        model.Fuse = false;
        var y = model.Run(new Tape(NaiveKernels.Instance) { GradEnabled = false }, x).ToArray();
        model.Fuse = true;
        return y;
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        float scale = expected.Max(MathF.Abs);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f * scale, $"element {i}: {actual[i]} vs plain {expected[i]}");
    }

    public static TheoryData<int[], int, int[], bool, bool> Cases => new()
    {
        { [17, 32], 96, [96], true, false },
        { [1, 17, 32], 64, [64], false, true },
        { [17, 1, 32], 96, [96], true, true },
        { [1, 32, 32, 24], 96, [96], false, true },
        { [2, 5, 7], 9, [1, 9], false, false },
        { [3, 64], 10, [10], true, false },
        { [1, 40], 50, [50], false, false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void FusedMatMulAndBias_GiveThePlainMatMulThenAdd(int[] inputDims, int n, int[] biasDims, bool biasFirst, bool throughIdentity)
    {
        var model = Model(inputDims[^1], n, biasDims, biasFirst, throughIdentity);
        var x = Input(inputDims, n);
        var expected = Plain(model, x);
        foreach (var simd in new[] { new SimdKernels(1), new SimdKernels(2) })
        {
            var tape = new Tape(simd) { GradEnabled = false };
            for (int pass = 0; pass < 2; pass++)
            {
                tape.Reset();
                AssertClose(expected, model.Run(tape, x).ToArray());
            }
            Assert.Contains(tape.Nodes, node => node.Kind == "MatMulBias");
            Assert.False(tape.Named.ContainsKey("p"));
            Assert.True(tape.Named.ContainsKey("y"));
        }
    }

    [Fact]
    public void ObservedProduct_NotAColumnBias_AndGradientPasses_RunThePlainNodes()
    {
        var x = Input([4, 6, 8], 1);
        var model = Model(8, 12, [12], biasFirst: false, throughIdentity: false);
        var expected = Plain(model, x);
        // The product kept by name: MatMul and Add run as themselves, and the product keeps its own value.
        var kept = new Tape(new SimdKernels(1)) { GradEnabled = false };
        kept.Keep("p");
        AssertClose(expected, model.Run(kept, x).ToArray());
        Assert.DoesNotContain(kept.Nodes, node => node.Kind == "MatMulBias");
        Assert.True(kept.Named.ContainsKey("p"));
        // A gradient pass never fuses it (the fused node has no backward), and backward reaches x.
        var grad = new Tape(new SimdKernels(1));
        var input = Tensor.FromArray(x.ToArray(), 4, 6, 8);
        input.RequiresGrad = true;
        var y = model.Run(grad, input);
        AssertClose(expected, y.ToArray());
        Assert.DoesNotContain(grad.Nodes, node => node.Kind == "MatMulBias");
        grad.Backward(y, Tensor.FromArray(Enumerable.Repeat(1f, y.Size).ToArray(), y.Shape.ToArray()));
        Assert.NotNull(input.Grad);
        // A [6, 12] addend is not one value per column: the Add broadcasts it as itself.
        var rowwise = Model(8, 12, [6, 12], biasFirst: true, throughIdentity: false);
        var rowwiseExpected = Plain(rowwise, x);
        var tape = new Tape(new SimdKernels(1)) { GradEnabled = false };
        AssertClose(rowwiseExpected, rowwise.Run(tape, x).ToArray());
        Assert.DoesNotContain(tape.Nodes, node => node.Kind == "MatMulBias");
    }

    [Fact]
    public void WarmPass_AllocatesNothing()
    {
        var model = Model(32, 96, [96], biasFirst: true, throughIdentity: true);
        var x = Input([17, 1, 32], 2);
        using var simd = new SimdKernels(1);
        var tape = new Tape(simd) { GradEnabled = false };
        long fewest = long.MaxValue;
        for (int pass = 0; pass < 4; pass++)
        {
            tape.Reset();
            long before = GC.GetAllocatedBytesForCurrentThread();
            model.Run(tape, x);
            if (pass > 0) fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.Equal(0, fewest);
    }
}
