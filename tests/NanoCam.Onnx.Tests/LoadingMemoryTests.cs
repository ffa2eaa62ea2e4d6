using Google.Protobuf;
using NanoCam.Onnx.Protos;
using Xunit.Abstractions;

namespace NanoCam.Onnx.Tests;

/// <summary>Loading keeps a model's weights in memory at most twice: the file is parsed as a stream, and each initializer's bytes are dropped once decoded.</summary>
public sealed class LoadingMemoryTests(ITestOutputHelper output)
{
    [Fact]
    public void LoadingA32MegabyteModel_AllocatesAtMostTwiceItsWeights_AndKeepsEveryValue()
    {
        const int tensors = 8, size = 1 << 20;   // 8 × 4 MiB of FLOAT weights
        var graph = TestGraphs.Graph([TestGraphs.Node("Identity", ["x"], ["y"])], "x", "y");
        var rng = new Random(5);
        var expected = new float[tensors][];
        for (int t = 0; t < tensors; t++)
        {
            expected[t] = Enumerable.Range(0, size).Select(_ => (float)rng.NextDouble()).ToArray();
            var tensor = new TensorProto { Name = $"w{t}", DataType = (int)OnnxDataType.Float, RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(expected[t].AsSpan())) };
            tensor.Dims.Add(1024);
            tensor.Dims.Add(1024);
            graph.Initializer.Add(tensor);
        }
        var path = Path.Combine(Path.GetTempPath(), $"nanocam-memory-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, TestGraphs.Model(graph, 13).ToByteArray());
        try
        {
            OnnxModel.Load(path);   // warm up: the parser's and the JIT's own allocations are not the model's
            long before = GC.GetAllocatedBytesForCurrentThread();
            var model = OnnxModel.Load(path);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            double weights = tensors * size * 4.0;
            output.WriteLine($"weights {weights / 1048576:F0} MiB, allocated while loading {allocated / 1048576.0:F1} MiB = {allocated / weights:F2}× the weights");
            Assert.True(allocated <= 2.1 * weights, $"loading allocated {allocated / weights:F2}× the weights");
            for (int t = 0; t < tensors; t++) Assert.Equal(expected[t], model.Parameters[$"w{t}"].ToArray());
        }
        finally { File.Delete(path); }
    }
}
