namespace NanoCam;

/// <summary>
/// A batched matrix multiply C = alpha·op(A)·op(B) + beta·C over row-major matrices, op(X) = X or Xᵀ.
/// op(A) is M×K, op(B) is K×N, C is M×N. Batch i reads A at i·BatchStrideA (0 broadcasts one matrix), likewise B and C.
/// </summary>
public readonly record struct GemmShape(
    int M, int N, int K,
    bool TransposeA = false, bool TransposeB = false,
    float Alpha = 1f, float Beta = 0f,
    int Batch = 1, int BatchStrideA = 0, int BatchStrideB = 0, int BatchStrideC = 0,
    int OffsetA = 0, int OffsetB = 0, int OffsetC = 0)
{
    /// <summary>Leading dimension (row length) of A as stored.</summary>
    public int Lda => TransposeA ? M : K;
    /// <summary>Leading dimension (row length) of B as stored.</summary>
    public int Ldb => TransposeB ? K : N;

    public double Flops => 2.0 * M * N * K * Batch;
}
