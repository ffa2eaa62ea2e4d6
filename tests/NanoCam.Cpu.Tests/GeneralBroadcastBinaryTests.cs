using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;

namespace NanoCam.Cpu.Tests;

/// <summary>
/// The SIMD a∘b for broadcasts that are neither element-wise nor "b repeated over a block of a" (a scalar times a
/// tensor, both operands broadcast, a the smaller one): forward and backward against the naive kernels, every operation,
/// and allocation-free once warm.
/// </summary>
public class GeneralBroadcastBinaryTests
{
    private static Tensor Filled(Random rng, int[] dims, float low) => BroadcastMulDivBackwardTests.Filled(rng, dims, low);

    public static TheoryData<int[], int[]> Cases => new()
    {
        { [], [2, 3, 4, 5] },             // a scalar (rank 0) times a tensor: the seed of a taped gradient
        { [1], [3, 4] },                  // a one-element vector
        { [3, 1, 5], [1, 4, 1] },         // both broadcast, along different axes
        { [1, 4, 1], [3, 4, 5] },         // a the broadcast one
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardAndBackward_MatchTheNaiveKernels(int[] aShape, int[] bShape)
    {
        var rng = new Random(aShape.Sum() * 7 + bShape.Sum());
        var a = Filled(rng, aShape, -0.5f);
        var b = Filled(rng, bShape, 0.5f);
        var outShape = Ops.TapeOps.BroadcastShape(a.Shape, b.Shape);
        var dy = Filled(rng, outShape, -0.5f);
        var simd = new SimdKernels(threads: 2);
        foreach (var op in new[] { BinaryOp.Add, BinaryOp.Sub, BinaryOp.Mul, BinaryOp.Div })
        {
            var expected = Tensor.Zeros(outShape);
            var actual = Tensor.Zeros(outShape);
            NaiveKernels.Instance.BinaryForward(op, expected, a, b);
            simd.BinaryForward(op, actual, a, b);
            AssertClose(expected, actual, $"{op} forward");

            // Backward accumulates: both start from the same non-zero gradients.
            var (daExpected, dbExpected) = (Filled(new Random(1), aShape, 0f), Filled(new Random(2), bShape, 0f));
            var (daActual, dbActual) = (Filled(new Random(1), aShape, 0f), Filled(new Random(2), bShape, 0f));
            NaiveKernels.Instance.BinaryBackward(op, daExpected, dbExpected, dy, a, b);
            simd.BinaryBackward(op, daActual, dbActual, dy, a, b);
            AssertClose(daExpected, daActual, $"{op} ∂a");
            AssertClose(dbExpected, dbActual, $"{op} ∂b");
        }
    }

    [Fact]
    public void ScalarTimesTensor_AllocatesNothing_OnceWarm()
    {
        var rng = new Random(3);
        var (a, b, dy) = (Filled(rng, [], 0.5f), Filled(rng, [4, 8, 8], 0.5f), Filled(rng, [4, 8, 8], 0.5f));
        var (y, da, db) = (Tensor.Zeros(4, 8, 8), Tensor.Zeros(), Tensor.Zeros(4, 8, 8));
        var simd = new SimdKernels(threads: 1);
        void Run()
        {
            simd.BinaryForward(BinaryOp.Mul, y, a, b);
            simd.BinaryBackward(BinaryOp.Mul, da, db, dy, a, b);
            simd.BinaryForward(BinaryOp.Sub, y, a, b);
            simd.BinaryBackward(BinaryOp.Sub, da, db, dy, a, b);
        }
        Run();
        Assert.Equal(0, WarmAllocations.Fewest(() => Run()));
    }

    private static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        var (e, a) = (expected.ToArray(), actual.ToArray());
        for (int i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(e[i] - a[i]) <= 1e-5f * (1 + Math.Abs(e[i])), $"{what}, element {i}: naive {e[i]}, SIMD {a[i]}");
    }
}
