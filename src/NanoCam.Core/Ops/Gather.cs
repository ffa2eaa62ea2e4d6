using NanoCam.Autodiff;

namespace NanoCam.Ops;

public static partial class TapeOps
{
    /// <summary>
    /// Slices of <paramref name="data"/> along <paramref name="axis"/>, in the order of <paramref name="indices"/>
    /// (negative ones count from the end): with data seen as [outer, size, inner], out[o, j, i] = data[o, indices[j], i],
    /// shaped data[..axis] + [indices.Length] + data[axis+1..] (ONNX Gather with a flat index list).
    /// </summary>
    public static Tensor Gather(this Tape tape, Tensor data, int axis, ReadOnlySpan<int> indices)
    {
        int a = data.Shape.Axis(axis), size = data.Shape[a];
        Span<int> picked = indices.Length <= 256 ? stackalloc int[indices.Length] : new int[indices.Length];
        for (int j = 0; j < picked.Length; j++)
        {
            int k = indices[j] < 0 ? indices[j] + size : indices[j];
            if ((uint)k >= (uint)size) throw new ArgumentException($"gather: index {indices[j]} is out of range for axis {a} of {data.Shape}");
            picked[j] = k;
        }
        return tape.Next<GatherNode>().Forward(tape, data, a, picked);
    }
}

/// <summary>
/// Gather as block copies through the concat kernels (the slice at k is read with a concat backward into a zeroed
/// [outer, 1, inner] buffer, then written at j with a concat forward). Backward adds each output slice back at its
/// index, through a zeroed full-size buffer; indices picked twice receive both gradients.
/// </summary>
public sealed class GatherNode : Node
{
    private int[] _indices = [];
    private Tensor? _slice;
    private Tensor? _scatter;
    // The data and output seen as [outer, size, inner] and [outer, indices, inner], kept while their buffers and shapes stay.
    private Tensor? _source, _target;
    // Their gradients seen the same way (backward), kept likewise.
    private Tensor? _dSource, _dTarget;

    public override string Kind => "Gather";
    public Tensor Input => Inputs[0];
    public int Axis { get; private set; }
    public ReadOnlySpan<int> Indices => _indices;

    private (int Outer, int Size, int Inner) Blocks(Tensor data) =>
        (data.Shape.Product(0, Axis), data.Shape[Axis], data.Shape.Product(Axis + 1, data.Shape.Rank));

    internal Tensor Forward(Tape tape, Tensor data, int axis, ReadOnlySpan<int> indices)
    {
        Axis = axis;
        // A warm pass (the same indices, shapes and buffers) allocates nothing.
        if (!indices.SequenceEqual(_indices)) _indices = indices.ToArray();
        SetInputs(data);
        Span<int> dims = stackalloc int[data.Shape.Rank];
        data.Shape.Dims.CopyTo(dims);
        dims[axis] = indices.Length;
        var output = EnsureOutput(tape, dims);
        var (outer, size, inner) = Blocks(data);
        if (_slice is null || !Is(_slice.Shape, outer, 1, inner)) _slice = tape.Kernels.Allocate(new Shape(outer, 1, inner));
        if (_source is null || !ReferenceEquals(_source.Buffer, data.Buffer) || !Is(_source.Shape, outer, size, inner))
            _source = new Tensor(new Shape(outer, size, inner), data.Buffer);
        if (_target is null || !ReferenceEquals(_target.Buffer, output.Buffer) || !Is(_target.Shape, outer, indices.Length, inner))
            _target = new Tensor(new Shape(outer, indices.Length, inner), output.Buffer);
        var (source, target) = (_source, _target);
        indices = _indices;
        for (int j = 0; j < indices.Length; j++)
        {
            tape.Kernels.Fill(_slice, 0f);
            tape.Kernels.ConcatBackward(_slice, source, 1, indices[j]);
            tape.Kernels.ConcatForward(target, _slice, 1, j);
        }
        return output;
    }

    private static bool Is(Shape shape, int outer, int middle, int inner) => shape.Rank == 3 && shape[0] == outer && shape[1] == middle && shape[2] == inner;

    public override void Backward(IKernels kernels)
    {
        if (GradOf(Input) is not { } dInput) return;
        var (outer, size, inner) = Blocks(Input);
        // A warm pass (the same shapes and gradient buffers) allocates nothing.
        if (_scatter is null || !Is(_scatter.Shape, outer, size, inner)) _scatter = kernels.Allocate(new Shape(outer, size, inner));
        if (_dSource is null || !ReferenceEquals(_dSource.Buffer, dInput.Buffer) || !Is(_dSource.Shape, outer, size, inner))
            _dSource = new Tensor(new Shape(outer, size, inner), dInput.Buffer);
        var dOutput = Output.Grad!;
        if (_dTarget is null || !ReferenceEquals(_dTarget.Buffer, dOutput.Buffer) || !Is(_dTarget.Shape, outer, _indices.Length, inner))
            _dTarget = new Tensor(new Shape(outer, _indices.Length, inner), dOutput.Buffer);
        var (dSource, dTarget) = (_dSource, _dTarget);
        for (int j = 0; j < _indices.Length; j++)
        {
            kernels.Fill(_slice!, 0f);
            kernels.ConcatBackward(_slice!, dTarget, 1, j);
            kernels.Fill(_scatter, 0f);
            kernels.ConcatForward(_scatter, _slice!, 1, _indices[j]);
            kernels.AddScaled(dSource, _scatter, 1f);
        }
    }
}
