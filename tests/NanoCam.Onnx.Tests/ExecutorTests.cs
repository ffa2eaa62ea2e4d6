using NanoCam.Autodiff;
using NanoCam.Cpu.Naive;
using static NanoCam.Onnx.Tests.TestGraphs;

namespace NanoCam.Onnx.Tests;

/// <summary>The pass loop's per-node bookkeeping: string attributes read every pass, names still published.</summary>
public sealed class ExecutorTests
{
    [Fact]
    public void GeluTanhNode_WarmPassAllocatesNothing_AndMatchesTheFormula()
    {
        // An opset-20 Gelu node reads its "approximate" string attribute on every pass: decoded once at load, so a warm
        // pass allocates nothing. Values against the tanh formula worked in double.
        var model = SingleNode(Node("Gelu", ["x"], ["y"], ("approximate", "tanh")), 20);
        var tape = new Tape(new NaiveKernels()) { GradEnabled = false };
        var x = Tensor.FromArray([-3f, -1.5f, -0.5f, 0f, 0.25f, 1f, 2.5f], 1, 7);
        long fewest = long.MaxValue;
        Tensor y = null!;
        for (int pass = 0; pass < 4; pass++)
        {
            tape.Reset();
            long before = GC.GetAllocatedBytesForCurrentThread();
            y = model.Run(tape, x);
            if (pass > 0) fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.Equal(0, fewest);
        Assert.Same(y, tape.Find("y"));
        var values = y.ToArray();
        for (int i = 0; i < values.Length; i++)
        {
            double v = x.ToArray()[i];
            double expected = 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
            Assert.Equal(expected, values[i], 5);
        }
    }
}
