using NanoCam.Autodiff;

namespace NanoCam.Ops;

public static partial class TapeOps
{
    /// <summary>C = alpha · op(A) · op(B) for 2-D A and B (op = optional transpose).</summary>
    public static Tensor MatMul(this Tape tape, Tensor a, Tensor b, bool transposeA = false, bool transposeB = false, float alpha = 1f)
    {
        if (a.Shape.Rank != 2 || b.Shape.Rank != 2)
            throw new ArgumentException($"matmul: expected 2-D operands, got {a.Shape} and {b.Shape}");
        int m = transposeA ? a.Shape[1] : a.Shape[0], k = transposeA ? a.Shape[0] : a.Shape[1];
        int kb = transposeB ? b.Shape[1] : b.Shape[0], n = transposeB ? b.Shape[0] : b.Shape[1];
        if (k != kb)
            throw new ArgumentException($"matmul: op(A) of {a.Shape}{(transposeA ? "ᵀ" : "")} has {k} columns but op(B) of {b.Shape}{(transposeB ? "ᵀ" : "")} has {kb} rows");
        return tape.Next<MatMulNode>().Forward(tape, a, b, new GemmShape(m, n, k, transposeA, transposeB, alpha), [m, n]);
    }

    /// <summary>
    /// NumPy matmul: operands of rank ≥ 1, the last two axes multiplied, leading axes broadcast
    /// when one side has a single matrix (a 1-D operand is a row/column vector and its axis is dropped).
    /// </summary>
    public static Tensor BatchedMatMul(this Tape tape, Tensor a, Tensor b)
    {
        // Shapes are read as spans and the output's dimensions built on the stack: a warm pass allocates nothing.
        ReadOnlySpan<int> ad = a.Shape.Dims, bd = b.Shape.Dims;
        if (ad.Length == 0 || bd.Length == 0) throw new ArgumentException($"matmul: {a.Shape} · {b.Shape}: operands must have rank ≥ 1");
        bool aVector = ad.Length == 1, bVector = bd.Length == 1;
        int m = aVector ? 1 : ad[^2], k = ad[^1];
        int kb = bVector ? bd[0] : bd[^2], n = bVector ? 1 : bd[^1];
        if (k != kb) throw new ArgumentException($"matmul: {a.Shape} · {b.Shape}: inner dimensions {k} and {kb} differ");
        ReadOnlySpan<int> aBatch = aVector ? [] : ad[..^2];
        ReadOnlySpan<int> bBatch = bVector ? [] : bd[..^2];
        int aCount = Product(aBatch), bCount = Product(bBatch);
        // The batch axes: the longer operand's, a single-matrix side padded with leading 1s.
        int batchRank = Math.Max(aBatch.Length, bBatch.Length);
        Span<int> dims = stackalloc int[batchRank + 2];
        var batch = dims[..batchRank];
        if (aCount == bCount && aBatch.SequenceEqual(bBatch)) aBatch.CopyTo(batch);
        else if (bCount == 1 && AllOnes(bBatch)) PadLeft(aBatch, batch);
        else if (aCount == 1 && AllOnes(aBatch)) PadLeft(bBatch, batch);
        else throw new ArgumentException($"matmul: batch dimensions of {a.Shape} and {b.Shape} do not broadcast (only identical or single-matrix batches are supported)");
        int count = Product(batch), rank = batchRank;
        if (!aVector) dims[rank++] = m;
        if (!bVector) dims[rank++] = n;
        var shape = new GemmShape(m, n, k, Batch: count,
            BatchStrideA: aCount == 1 ? 0 : m * k, BatchStrideB: bCount == 1 ? 0 : k * n, BatchStrideC: m * n);
        return tape.Next<MatMulNode>().Forward(tape, a, b, shape, dims[..rank]);
    }

    private static int Product(ReadOnlySpan<int> dims) { int p = 1; foreach (var d in dims) p *= d; return p; }

    private static bool AllOnes(ReadOnlySpan<int> dims) { foreach (var d in dims) if (d != 1) return false; return true; }

    /// <summary><paramref name="dims"/> right-aligned in <paramref name="into"/>, leading 1s before them.</summary>
    private static void PadLeft(ReadOnlySpan<int> dims, Span<int> into)
    {
        into[..^dims.Length].Fill(1);
        dims.CopyTo(into[^dims.Length..]);
    }
}

/// <summary>
/// C = α·op(A)·op(B), batched. Backward (row-major, dC = ∂L/∂C):
/// ∂L/∂op(A) = α·dC·op(B)ᵀ and ∂L/∂op(B) = α·op(A)ᵀ·dC, each transposed back when A or B was stored transposed.
/// A broadcast operand (batch stride 0) receives the sum over the batch.
/// </summary>
public sealed class MatMulNode : Node
{
    public override string Kind => "MatMul";
    public GemmShape Shape { get; private set; }
    public Tensor A => Inputs[0];
    public Tensor B => Inputs[1];

    internal Tensor Forward(Tape tape, Tensor a, Tensor b, GemmShape shape, ReadOnlySpan<int> outputDims)
    {
        Shape = shape;
        SetInputs(a, b);
        var c = EnsureOutput(tape, outputDims);
        tape.Kernels.Gemm(c, a, b, shape);
        return c;
    }

    public override void Backward(IKernels kernels)
    {
        var s = Shape;
        var dC = Output.Grad!;
        for (int i = 0; i < s.Batch; i++)
        {
            int offA = i * s.BatchStrideA, offB = i * s.BatchStrideB, offC = i * s.BatchStrideC;
            if (GradOf(A) is { } dA)
            {
                var g = s.TransposeA
                    ? new GemmShape(s.K, s.M, s.N, s.TransposeB, true, s.Alpha, 1f, OffsetA: offB, OffsetB: offC, OffsetC: offA)   // dA(K×M) = α·op(B)·dCᵀ
                    : new GemmShape(s.M, s.K, s.N, false, !s.TransposeB, s.Alpha, 1f, OffsetA: offC, OffsetB: offB, OffsetC: offA); // dA(M×K) = α·dC·op(B)ᵀ
                if (s.TransposeA) kernels.Gemm(dA, B, dC, g); else kernels.Gemm(dA, dC, B, g);
            }
            if (GradOf(B) is { } dB)
            {
                var g = s.TransposeB
                    ? new GemmShape(s.N, s.K, s.M, true, s.TransposeA, s.Alpha, 1f, OffsetA: offC, OffsetB: offA, OffsetC: offB)   // dB(N×K) = α·dCᵀ·op(A)
                    : new GemmShape(s.K, s.N, s.M, !s.TransposeA, false, s.Alpha, 1f, OffsetA: offA, OffsetB: offC, OffsetC: offB); // dB(K×N) = α·op(A)ᵀ·dC
                if (s.TransposeB) kernels.Gemm(dB, dC, A, g); else kernels.Gemm(dB, A, dC, g);
            }
        }
    }

    /// <summary>Taped (single 2-D product): the same four cases as <see cref="Backward"/>, each a taped MatMul.</summary>
    public override Tensor?[] BackwardTaped(Tape tape, Tensor gradOutput)
    {
        var s = Shape;
        if (s.Batch != 1 || A.Shape.Rank != 2 || B.Shape.Rank != 2)
            throw new NotSupportedException("second-order gradients: MatMul has a taped backward rule for 2-D operands only, not batched or vector ones");
        var dC = gradOutput;
        Tensor? dA = null, dB = null;
        if (WantsGradient(tape, A))
            dA = s.TransposeA ? tape.MatMul(B, dC, s.TransposeB, true, s.Alpha)    // dA(K×M) = α·op(B)·dCᵀ
                              : tape.MatMul(dC, B, false, !s.TransposeB, s.Alpha);  // dA(M×K) = α·dC·op(B)ᵀ
        if (WantsGradient(tape, B))
            dB = s.TransposeB ? tape.MatMul(dC, A, true, s.TransposeA, s.Alpha)    // dB(N×K) = α·dCᵀ·op(A)
                              : tape.MatMul(A, dC, !s.TransposeA, false, s.Alpha); // dB(K×N) = α·op(A)ᵀ·dC
        return TapedGradients(dA, dB);
    }
}
