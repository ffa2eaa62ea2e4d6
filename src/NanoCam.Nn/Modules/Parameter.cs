namespace NanoCam.Nn.Modules;

/// <summary>A trainable tensor (or a non-trainable buffer such as batch norm's running mean) held by a module under a local name.</summary>
public sealed class Parameter
{
    public Parameter(string name, Tensor value, bool trainable = true)
    {
        Name = name;
        Trainable = trainable;
        Value = Mark(value);
    }

    /// <summary>
    /// A parameter over <paramref name="tensor"/> itself (not a copy of its header), so that the gradient a tape accumulates
    /// into that tensor is the one an optimizer reads: for tensors owned elsewhere, such as an imported graph's initializers.
    /// </summary>
    public static Parameter Wrap(string name, Tensor tensor, bool trainable = true) => new(tensor, name, trainable);

    private Parameter(Tensor tensor, string name, bool trainable)
    {
        if (!tensor.IsParameter) throw new ArgumentException($"parameter '{name}': the tensor is not marked as a parameter");
        Name = name;
        Trainable = trainable;
        tensor.RequiresGrad = trainable;
        Value = tensor;
    }

    /// <summary>Local name inside its module ("weight", "bias", "running_mean").</summary>
    public string Name { get; }

    /// <summary>False for buffers: saved in checkpoints, never updated by an optimizer.</summary>
    public bool Trainable { get; }

    public Tensor Value { get; private set; }

    /// <summary>Replaces the tensor (moving to another backend's memory); the new one must have the same shape.</summary>
    public void Replace(Tensor value)
    {
        if (value.Shape != Value.Shape) throw new ArgumentException($"parameter '{Name}': new value {value.Shape} differs from {Value.Shape}");
        Value = Mark(value);
    }

    private Tensor Mark(Tensor t) => new(t.Shape, t.Buffer) { IsParameter = true, RequiresGrad = Trainable, Name = t.Name };
}
