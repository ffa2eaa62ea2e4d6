using NanoCam.Autodiff;
using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;
using NanoCam.Onnx.Protos;
using NanoCam.Ops;
using static NanoCam.Onnx.Tests.TestGraphs;

namespace NanoCam.Onnx.Tests;

/// <summary>
/// A patch embedding (Conv with kernel = stride, no padding) in a no-grad fused pass runs as a remap of the patches into
/// channels and a 1×1 convolution: against the plain Conv operator on the naive kernels (fusing off), with patches that
/// tile the image and ones that leave rows and columns over, batches, a bias and a fused ReLU; and on vit_tiny.
/// </summary>
public sealed class PatchEmbeddingTests
{
    public static TheoryData<int, int, int, int, int, int> Cases => new()
    {
        // batch, channels, height, width, kernel height, kernel width
        { 1, 3, 64, 64, 16, 16 },
        { 2, 3, 64, 64, 16, 16 },
        { 1, 2, 35, 37, 8, 8 },     // 4×4 patches, 3 rows and 5 columns left over
        { 3, 1, 18, 27, 9, 9 },     // 9 columns: one 8×8 block and an edge column per row of patches
        { 2, 4, 12, 40, 4, 8 },     // a non-square kernel
        { 1, 5, 30, 30, 10, 10 },
    };

    private static OnnxModel PatchModel(int channels, int outChannels, int kh, int kw, bool relu)
    {
        var rng = new Random(kh * 31 + kw);
        var graph = new GraphProto { Name = "patches" };
        graph.Initializer.Add(FloatTensor("w", [outChannels, channels, kh, kw], [.. Enumerable.Range(0, outChannels * channels * kh * kw).Select(_ => (float)(rng.NextDouble() - 0.5))]));
        graph.Initializer.Add(FloatTensor("b", [outChannels], [.. Enumerable.Range(0, outChannels).Select(_ => (float)(rng.NextDouble() - 0.5))]));
        graph.Node.Add(Node("Conv", "embed", ["x", "w", "b"], [relu ? "c" : "y"], ("kernel_shape", new[] { kh, kw }), ("strides", new[] { kh, kw })));
        if (relu) graph.Node.Add(Node("Relu", "relu", ["c"], ["y"]));
        graph.Input.Add(new ValueInfoProto { Name = "x" });
        graph.Output.Add(new ValueInfoProto { Name = "y" });
        return Load(graph, 13);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void PatchConvolution_AsRemapAndPointwise_GivesThePlainConvolution(int batch, int channels, int height, int width, int kh, int kw)
    {
        var rng = new Random(batch * 1000 + height);
        var x = Tensor.FromArray([.. Enumerable.Range(0, batch * channels * height * width).Select(_ => (float)(rng.NextDouble() * 4 - 2))], batch, channels, height, width);
        foreach (bool relu in new[] { false, true })
        {
            var model = PatchModel(channels, 7, kh, kw, relu);
            model.Fuse = false;
            var expected = model.Run(new Tape(NaiveKernels.Instance) { GradEnabled = false }, x).ToArray();
            model.Fuse = true;
            foreach (var simd in new[] { new SimdKernels(1), new SimdKernels(2) })
            {
                var tape = new Tape(simd) { GradEnabled = false };
                for (int pass = 0; pass < 2; pass++)
                {
                    tape.Reset();
                    var actual = model.Run(tape, x).ToArray();
                    Assert.Equal(expected.Length, actual.Length);
                    float scale = expected.Max(MathF.Abs);
                    for (int i = 0; i < expected.Length; i++)
                        Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f * scale, $"element {i}: {actual[i]} vs plain {expected[i]} (relu {relu}, {simd.Threads} threads)");
                }
                // The patches were laid out by a remap (the path under test), viewed as channels, and convolved (the ReLU
                // in the 1×1 convolution's epilogue): three nodes either way.
                Assert.Contains(tape.Nodes, n => n is RemapNode);
                Assert.Equal(3, tape.Count);
            }
        }
    }

    [Fact]
    public void WarmPass_AllocatesNothing()
    {
        var model = PatchModel(3, 8, 16, 16, relu: true);
        var x = Tensor.FromArray([.. Enumerable.Range(0, 2 * 3 * 48 * 64).Select(i => MathF.Sin(i * 0.1f))], 2, 3, 48, 64);
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

    [Fact]
    public void VitTiny_PatchEmbeddingAndEncoder_MatchTheUnfusedPass()
    {
        // vit_tiny's classifier head is zero-initialized (its logits are all 0), so the checks read the tensors before it.
        var model = OnnxModel.Load(TestData.Path("models", "zoo", "vit_tiny.onnx"));
        var rng = new Random(5);
        var x = Tensor.FromArray([.. Enumerable.Range(0, 3 * 64 * 64).Select(_ => (float)(rng.NextDouble() * 4 - 2))], 1, 3, 64, 64);
        var simd = new SimdKernels(1);
        var fusedTape = new Tape(simd) { GradEnabled = false };
        model.Run(fusedTape, x);
        model.Fuse = false;
        var plainTape = new Tape(simd) { GradEnabled = false };
        model.Run(plainTape, x);
        Assert.Contains(fusedTape.Nodes, n => n is RemapNode { Plan.Rank: 6 });
        int compared = 0;
        foreach (var (name, plain) in plainTape.Named)
        {
            if (!fusedTape.Named.TryGetValue(name, out var fused)) continue;
            var (e, a) = (plain.ToArray(), fused.ToArray());
            Assert.Equal(e.Length, a.Length);
            float scale = 1e-30f + e.Max(MathF.Abs);
            double diff = e.Zip(a, (p, q) => (double)Math.Abs(p - q)).Max() / scale;
            Assert.True(diff <= 1e-5, $"{name}: max |fused − unfused| = {diff:G3} of {scale:G4}");
            compared++;
        }
        Assert.True(fusedTape.Named.ContainsKey("/conv_proj/Conv_output_0") && compared > 50, $"compared {compared} tensors");
    }
}
