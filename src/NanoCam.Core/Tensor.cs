namespace NanoCam;

/// <summary>
/// A float32 tensor: a shape over a buffer. Images are NCHW; convolution weights are
/// [outputChannels, inputChannels / groups, kernelHeight, kernelWidth] as in PyTorch.
/// </summary>
public sealed class Tensor
{
    public Tensor(Shape shape, TensorBuffer buffer)
    {
        if (buffer.Length < shape.Size)
            throw new ArgumentException($"a buffer of {buffer.Length} elements cannot hold shape {shape}");
        Shape = shape;
        Buffer = buffer;
    }

    public Shape Shape { get; }

    public TensorBuffer Buffer { get; }

    /// <summary>Name used by capture hooks and checkpoints (e.g. "features.0.weight", "fire9/concat_1").</summary>
    public string? Name { get; set; }

    /// <summary>Whether reverse-mode autodiff computes a gradient for this tensor.</summary>
    public bool RequiresGrad { get; set; }

    /// <summary>Trainable parameters keep their gradient across a backward pass (the optimizer zeroes it).</summary>
    public bool IsParameter { get; init; }

    /// <summary>
    /// ∂loss/∂this, same shape; allocated on first backward and reused afterwards. A backward pass defers zeroing it
    /// (<see cref="DeferZeroGrad"/>): the first reader here gets it zeroed, while a kernel that writes it whole takes it
    /// as is (<see cref="TakeGradForWrite"/>) and saves a pass over memory.
    /// </summary>
    public Tensor? Grad
    {
        get
        {
            if (_zeroGradOn is { } kernels)
            {
                _zeroGradOn = null;
                kernels.Fill(_grad!, 0f);
            }
            return _grad;
        }
        set
        {
            _grad = value;
            _zeroGradOn = null;
        }
    }

    private Tensor? _grad;
    // The backend that still owes Grad its zeroing (null: Grad holds what it shows).
    private IKernels? _zeroGradOn;

    /// <summary>Grad as it is, without settling a deferred zeroing (for the tape's own bookkeeping).</summary>
    internal Tensor? GradBuffer => _grad;

    /// <summary>Marks Grad as zero without writing it yet: the first access zeroes it on <paramref name="kernels"/>.</summary>
    internal void DeferZeroGrad(IKernels kernels) => _zeroGradOn = kernels;

    /// <summary>
    /// Grad for a kernel that writes gradients into it: <paramref name="accumulate"/> is false while the zeroing is still
    /// deferred (the kernel writes its values instead of adding them, and Grad's stale contents are never read).
    /// </summary>
    internal Tensor? TakeGradForWrite(out bool accumulate)
    {
        accumulate = _zeroGradOn is null;
        _zeroGradOn = null;
        return _grad;
    }

    public int Size => Shape.Size;

    /// <summary>Which backward pass last zeroed Grad (so a tensor read by several nodes is zeroed once).</summary>
    internal int GradGeneration { get; set; }

    /// <summary>Host array behind this tensor; throws for a tensor that lives on a device.</summary>
    public float[] Data => Buffer is CpuBuffer cpu
        ? cpu.Array
        : throw new InvalidOperationException($"tensor {Name ?? Shape.ToString()} lives on a device; copy it to the host with ToArray()");

    public Span<float> Span => Data.AsSpan(0, Size);

    public bool IsOnHost => Buffer is CpuBuffer;

    /// <summary>Copies the elements to a new host array (works for host and device tensors).</summary>
    public float[] ToArray()
    {
        var result = new float[Size];
        Buffer.CopyTo(result);
        return result;
    }

    public float this[params int[] index]
    {
        get => Data[Offset(index)];
        set => Data[Offset(index)] = value;
    }

    /// <summary>A zero-filled host tensor.</summary>
    public static Tensor Zeros(params int[] dims) => Zeros(new Shape(dims));

    public static Tensor Zeros(Shape shape) => new(shape, new CpuBuffer(new float[shape.Size]));

    /// <summary>A host tensor over a copy of <paramref name="values"/>.</summary>
    public static Tensor FromArray(float[] values, params int[] dims)
    {
        var shape = new Shape(dims);
        if (values.Length != shape.Size)
            throw new ArgumentException($"{values.Length} values do not fill shape {shape} ({shape.Size} elements)");
        return new Tensor(shape, new CpuBuffer((float[])values.Clone()));
    }

    /// <summary>A scalar host tensor (shape []).</summary>
    public static Tensor Scalar(float value) => new(new Shape(), new CpuBuffer([value]));

    /// <summary>The same elements seen with another shape of equal size (no copy).</summary>
    public Tensor View(Shape shape)
    {
        if (shape.Size != Size) throw new ArgumentException($"cannot view shape {Shape} ({Size} elements) as {shape} ({shape.Size} elements)");
        return new Tensor(shape, Buffer) { Name = Name };
    }

    public override string ToString() => $"Tensor{Shape}{(Name is null ? "" : " " + Name)}";

    private int Offset(int[] index)
    {
        if (index.Length != Shape.Rank) throw new ArgumentException($"index of rank {index.Length} for tensor of shape {Shape}");
        int offset = 0;
        for (int i = 0; i < index.Length; i++)
        {
            if ((uint)index[i] >= (uint)Shape[i]) throw new IndexOutOfRangeException($"index {index[i]} on axis {i} of shape {Shape}");
            offset = offset * Shape[i] + index[i];
        }
        return offset;
    }
}
