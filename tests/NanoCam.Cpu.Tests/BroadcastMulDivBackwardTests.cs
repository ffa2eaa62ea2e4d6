using NanoCam.Cpu.Simd;

namespace NanoCam.Cpu.Tests;

/// <summary>The SIMD backward of a·b and a/b with b broadcast over a block of the output, against a direct loop, and allocation-free.</summary>
public class BroadcastMulDivBackwardTests
{
    /// <summary>Uniform values in [low, low + 1).</summary>
    internal static Tensor Filled(Random rng, int[] dims, float low)
    {
        var t = Tensor.Zeros(dims);
        for (int i = 0; i < t.Size; i++) t.Span[i] = low + (float)rng.NextDouble();
        return t;
    }

    public static TheoryData<int[], int[]> Cases => new()
    {
        { [3, 4, 5, 6], [3, 4, 1, 1] },   // per-image, per-channel weights over a map
        { [3, 1, 5, 6], [3, 1, 1, 1] },   // one scalar per image
        { [2, 7, 3], [7, 1] },            // a middle block with leading and trailing repeats
        { [5, 9], [9] },                  // trailing block, inner 1
        { [4, 3, 5], [4, 3, 5] },         // no broadcast: element-wise
        { [3, 17, 16], [] },              // a rank-0 divisor (attention scores / √d in a ViT)
        { [3, 4], [1, 1] },               // a one-element operand of the same rank
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MulAndDivBackward_WithABroadcastOperand_MatchDirectLoops(int[] shape, int[] bShape)
    {
        var rng = new Random(shape.Sum());
        var a = Filled(rng, shape, -0.5f);
        var b = Filled(rng, bShape, 0.5f);
        var dy = Filled(rng, shape, -0.5f);
        // The flat index of b seen from output index i: right-aligned shapes, size-1 axes of b repeat.
        int BIndex(int i)
        {
            int index = 0, stride = 1, rest = i;
            var bFull = Enumerable.Repeat(1, shape.Length - bShape.Length).Concat(bShape).ToArray();
            int[] strides = new int[shape.Length];
            for (int axis = shape.Length - 1; axis >= 0; axis--) { strides[axis] = stride; stride *= bFull[axis]; }
            for (int axis = shape.Length - 1; axis >= 0; axis--)
            {
                int coordinate = rest % shape[axis];
                rest /= shape[axis];
                if (bFull[axis] != 1) index += coordinate * strides[axis];
            }
            return index;
        }
        foreach (var op in new[] { BinaryOp.Mul, BinaryOp.Div })
        {
            var da = Tensor.Zeros(shape);
            var db = Tensor.Zeros(bShape);
            da.Span.Fill(0.25f);
            db.Span.Fill(-0.125f);
            var kernels = new SimdKernels(threads: 1);
            kernels.BinaryBackward(op, da, db, dy, a, b);
            var expectedA = Enumerable.Repeat(0.25, a.Size).ToArray();
            var expectedB = Enumerable.Repeat(-0.125, b.Size).ToArray();
            for (int i = 0; i < a.Size; i++)
            {
                int j = BIndex(i);
                double bj = b.Span[j], g = dy.Span[i], x = a.Span[i];
                expectedA[i] += op == BinaryOp.Mul ? g * bj : g / bj;
                expectedB[j] += op == BinaryOp.Mul ? g * x : -g * x / (bj * bj);
            }
            for (int i = 0; i < a.Size; i++) Assert.Equal(expectedA[i], da.Span[i], 4);
            for (int j = 0; j < b.Size; j++) Assert.Equal(expectedB[j], db.Span[j], 3);
            Assert.Equal(0, WarmAllocations.Fewest(() => kernels.BinaryBackward(op, da, db, dy, a, b)));
        }
    }
}

/// <summary>
/// The SIMD forward of a ∘ b where the broadcast operand comes first (a squeeze-excitation's scale · x) or is a single
/// value (GELU's x / √2, 1 + erf), for all four operations, against the naive kernel's index-by-index loop.
/// </summary>
public class BroadcastFirstOperandForwardTests
{
    public static TheoryData<int[], int[]> Cases => new()
    {
        { [1, 4, 1, 1], [1, 4, 5, 6] },   // SE: scale [N, C, 1, 1] · x
        { [3, 4, 1, 1], [3, 4, 5, 6] },   // per image and channel
        { [7, 1], [2, 7, 3] },            // a middle block with leading and trailing repeats
        { [9], [5, 9] },                  // trailing block, inner 1
        { [], [4, 3, 5] },                // a rank-0 scalar first
        { [4, 3, 5], [] },                // a rank-0 scalar second
        { [1, 1, 1], [2, 3, 4] },         // a one-element tensor first
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_WithTheBroadcastOperandFirstOrAScalar_MatchesTheNaiveKernel(int[] aShape, int[] bShape)
    {
        var rng = new Random(aShape.Sum() * 31 + bShape.Sum());
        Tensor Filled(int[] dims)
        {
            var t = Tensor.Zeros(dims);
            for (int i = 0; i < t.Size; i++) t.Span[i] = 0.5f + (float)rng.NextDouble();
            return t;
        }
        var (a, b) = (Filled(aShape), Filled(bShape));
        var dims = Ops.TapeOps.BroadcastShape(a.Shape, b.Shape);
        using var simd = new SimdKernels(threads: 1);
        var naive = new Naive.NaiveKernels();
        foreach (var op in new[] { BinaryOp.Add, BinaryOp.Sub, BinaryOp.Mul, BinaryOp.Div })
        {
            var (expected, actual) = (Tensor.Zeros(dims), Tensor.Zeros(dims));
            naive.BinaryForward(op, expected, a, b);
            simd.BinaryForward(op, actual, a, b);
            for (int i = 0; i < expected.Size; i++)
                Assert.True(Math.Abs(expected.Span[i] - actual.Span[i]) <= 1e-6f * Math.Abs(expected.Span[i]), $"{op} element {i}: {actual.Span[i]} vs {expected.Span[i]}");
            // Warm: the same call again allocates nothing.
            Assert.Equal(0, WarmAllocations.Fewest(() => simd.BinaryForward(op, actual, a, b)));
        }
    }
}
