using NanoCam.Autodiff;
using NanoCam.Cpu.Simd;
using NanoCam.Elementwise;
using NanoCam.Ops;

namespace NanoCam.Core.Tests;

/// <summary>The generic ops reuse their nodes, plans and buffers: after the first pass, forward and backward allocate nothing.</summary>
public class SteadyStateTests
{
    [Fact]
    public void GenericOps_ForwardAndBackward_AllocateNothingAfterTheFirstPass()
    {
        using var kernels = new SimdKernels(threads: 1);
        var tape = new Tape(kernels);
        var x = TapeGradientCheck.Random(new Random(1), 2, 3, 4, 5);
        var bias = TapeGradientCheck.Random(new Random(2), 3, 1, 1);
        var condition = Tensor.FromArray([1, 0, 1, 0, 1, 1], 6);
        var weight = TapeGradientCheck.Random(new Random(3), 3, 2, 3, 3);
        x.RequiresGrad = true;
        bias.RequiresGrad = true;
        weight.RequiresGrad = true;
        var g = new Conv2dGeometry(2, 2, 8, 8, 3, 3, 3, StrideHeight: 2, StrideWidth: 2, PadTop: 1, PadLeft: 1);

        void Pass()
        {
            tape.Reset();
            var y = tape.Binary(tape.Unary(x, new Gelu()), bias, new Maximum());
            y = tape.Pad(tape.Transpose(y, [0, 1, 3, 2]), [0, 0, 1, 2], [0, 0, 1, 0], BorderMode.Reflect);
            y = tape.Slice(y, [1, 0, 5, 0], [-1, 1, -1, 2], [2, 3, 6, 3]);
            y = tape.Where(condition, tape.Tile(y, [1, 1, 1, 2]), tape.Expand(bias, [1, 1, 1, 6]));
            var m = tape.Reduce(ReduceKind.Max, y, [1, 3], keepDims: true);
            var s = tape.ReduceMean(tape.Binary(y, m, new Minimum()), [0, 2], keepDims: false);
            var c = tape.ConvTranspose2d(tape.Transpose(tape.Slice(x, [0, 0, 0, 0], [1, 1, 1, 1], [2, 3, 4, 4]), [0, 1, 2, 3]), weight, null, g);
            tape.Backward(tape.Add(tape.Sum(s), tape.Sum(c)));
            _ = tape.ArgMax(y, 3, keepDims: false, selectLast: true);
        }

        Pass();
        Pass();
        // The fewest of three warm passes: a one-off of the runtime on this thread (tiering up) is not the tape's.
        long fewest = long.MaxValue;
        for (int i = 0; i < 3; i++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            Pass();
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.Equal(0, fewest);
    }
}
