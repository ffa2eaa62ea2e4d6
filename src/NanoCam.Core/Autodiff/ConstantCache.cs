namespace NanoCam.Autodiff;

/// <summary>
/// A constant tensor that a taped backward rule reads (a mask, a one-hot, a tensor of 1/Z): kept by its node and refilled
/// each pass, reallocated only when the shape or the backend changes. It requires no gradient.
/// </summary>
internal sealed class ConstantCache
{
    private Tensor? _tensor;
    private IKernels? _kernels;

    /// <summary>The constant of <paramref name="dims"/> on <paramref name="kernels"/>, every element <paramref name="value"/>.</summary>
    public Tensor Filled(IKernels kernels, ReadOnlySpan<int> dims, float value)
    {
        var tensor = Of(kernels, dims);
        kernels.Fill(tensor, value);
        return tensor;
    }

    /// <summary>The constant of <paramref name="dims"/> on <paramref name="kernels"/>, with its last contents (the caller writes it).</summary>
    public Tensor Of(IKernels kernels, ReadOnlySpan<int> dims)
    {
        if (_tensor is null || !ReferenceEquals(_kernels, kernels) || !_tensor.Shape.Dims.SequenceEqual(dims))
        {
            _tensor = kernels.Allocate(new Shape(dims.ToArray()));
            _kernels = kernels;
        }
        return _tensor;
    }
}
