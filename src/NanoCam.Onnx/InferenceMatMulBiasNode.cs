using NanoCam.Autodiff;

namespace NanoCam.Onnx;

/// <summary>
/// An imported MatMul by a constant [K, N] weight and the Add of a bias of N values that alone reads it, in a no-grad
/// fused pass: y = bias + x·W, the bias copied into every row of y first and the product accumulated onto it (GEMM with
/// beta 1), so the sum is never written and read back by a separate Add. The same terms as MatMul then Add, with the bias
/// entering the sum first rather than last (a rounding difference). No-grad passes only: it has no backward.
/// </summary>
internal sealed class InferenceMatMulBiasNode : Node
{
    private RemapPlan? _rows;

    public override string Kind => "MatMulBias";

    /// <summary>y[..., N] = x[..., K]·W[K, N] + bias[N] (x of any rank, its last axis K).</summary>
    public Tensor Forward(Tape tape, Tensor x, Tensor w, Tensor bias)
    {
        int k = w.Shape[0], n = w.Shape[1], m = x.Size / k;
        SetInputs(x, w, bias);
        int rank = x.Shape.Rank;
        Span<int> dims = stackalloc int[rank];
        for (int a = 0; a < rank - 1; a++) dims[a] = x.Shape[a];
        dims[rank - 1] = n;
        var y = EnsureOutput(tape, dims);
        // The bias in every one of the m rows: a remap that reads it with a step of 0 along the rows.
        if (_rows is null || _rows.OutputDims[0] != m || _rows.OutputDims[1] != n)
            _rows = new RemapPlan([new RemapAxis(m, 1, 0, 0, 0, BorderMode.Constant), new RemapAxis(n, n, 1, 0, 1, BorderMode.Constant)]);
        tape.Kernels.RemapForward(y, bias, _rows);
        tape.Kernels.Gemm(y, x, w, new GemmShape(m, n, k, Beta: 1f));
        return y;
    }

    public override void Backward(IKernels kernels) =>
        throw new NotSupportedException("a fused MatMul + bias runs in no-grad passes only; a pass with gradients runs the MatMul and the Add");
}
