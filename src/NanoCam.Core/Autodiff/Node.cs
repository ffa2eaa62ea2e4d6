namespace NanoCam.Autodiff;

/// <summary>
/// One recorded operation: it owns its output tensor (reused from step to step when the shape is unchanged)
/// and knows how to push the output's gradient back to its inputs (its backward rule, in the same file as its forward).
/// </summary>
public abstract class Node
{
    private Tensor[] _inputs = [];

    /// <summary>Operation kind, the key for backward-rule overrides ("Relu", "Conv2d", ...).</summary>
    public abstract string Kind { get; }

    /// <summary>The tensor this node computed.</summary>
    public Tensor Output { get; private set; } = null!;

    /// <summary>The tensors this node read, in argument order.</summary>
    public ReadOnlySpan<Tensor> Inputs => _inputs;

    /// <summary>Accumulates ∂L/∂input into each input's Grad from Output.Grad.</summary>
    public abstract void Backward(IKernels kernels);

    /// <summary>
    /// The backward rule as taped operations (PyTorch's create_graph): records on <paramref name="tape"/> the ops that compute
    /// ∂L/∂input from <paramref name="gradOutput"/> (itself a tensor of the tape), so that the gradient can be differentiated
    /// again. Returns one entry per input, null where no gradient is wanted (<see cref="WantsGradient"/>). Used by
    /// <see cref="Tape.Grad(Tensor, Tensor, Tensor?, bool)"/> with createGraph; an op without such a rule refuses by naming its kind.
    /// </summary>
    public virtual Tensor?[] BackwardTaped(Tape tape, Tensor gradOutput) =>
        throw new NotSupportedException($"second-order gradients: the operation {Kind} has no taped backward rule (Tape.Grad with createGraph)");

    private Tensor?[] _tapedGradients = [];

    /// <summary>
    /// The array a taped backward rule returns: one entry per input, cleared, owned by this node and reused by its next
    /// taped backward (the caller reads it at once), so a steady second-order step allocates no result arrays.
    /// </summary>
    protected Tensor?[] TapedGradients()
    {
        if (_tapedGradients.Length != _inputs.Length) _tapedGradients = new Tensor?[_inputs.Length];
        else Array.Clear(_tapedGradients);
        return _tapedGradients;
    }

    /// <summary><see cref="TapedGradients()"/> holding ∂L/∂input₀.</summary>
    protected Tensor?[] TapedGradients(Tensor? first)
    {
        var gradients = TapedGradients();
        gradients[0] = first;
        return gradients;
    }

    /// <summary><see cref="TapedGradients()"/> holding ∂L/∂input₀ and ∂L/∂input₁.</summary>
    protected Tensor?[] TapedGradients(Tensor? first, Tensor? second)
    {
        var gradients = TapedGradients(first);
        gradients[1] = second;
        return gradients;
    }

    /// <summary>Whether a taped backward rule must produce ∂L/∂input: it needs a gradient and lies on the path the running <see cref="Tape.Grad(Tensor, Tensor, Tensor?, bool)"/> differentiates.</summary>
    protected bool WantsGradient(Tape tape, Tensor input) => NeedsGradient(input) && tape.IsOnGradientPath(input);

    /// <summary>Records the inputs (reusing the array when the count is unchanged).</summary>
    protected void SetInputs(Tensor a) { Resize(1); _inputs[0] = a; }
    protected void SetInputs(Tensor a, Tensor b) { Resize(2); _inputs[0] = a; _inputs[1] = b; }
    protected void SetInputs(Tensor a, Tensor b, Tensor? c) { Resize(c is null ? 2 : 3); _inputs[0] = a; _inputs[1] = b; if (c is not null) _inputs[2] = c; }
    protected void SetInputs(ReadOnlySpan<Tensor> inputs) { Resize(inputs.Length); inputs.CopyTo(_inputs); }

    private void Resize(int count)
    {
        if (_inputs.Length != count) _inputs = new Tensor[count];
    }

    /// <summary>
    /// Makes Output a tensor of the given shape, reusing last step's buffer when the shape matches (else a zeroed buffer,
    /// which the tape may take from its spares, and the replaced one goes to them), and marks whether it needs a gradient
    /// (any input does, and the tape records gradients).
    /// </summary>
    protected Tensor EnsureOutput(Tape tape, ReadOnlySpan<int> dims)
    {
        if (Output is null || !OwnsOutput || !Output.Shape.Dims.SequenceEqual(dims) || !ReferenceEquals(OutputKernels, tape.Kernels))
        {
            var replaced = Output;
            bool ownedBuffer = OwnsOutput && ReferenceEquals(OutputKernels, tape.Kernels);
            Output = tape.Allocate(new Shape(dims.ToArray()));
            OutputKernels = tape.Kernels;
            if (replaced is not null) tape.Recycle(replaced, ownedBuffer);
        }
        OwnsOutput = true;
        Output.Name = null;
        _parameterGradients = tape.ParameterGradients;
        Output.RequiresGrad = tape.GradEnabled && AnyInputRequiresGrad();
        return Output;
    }

    /// <summary>Makes Output a view of <paramref name="source"/>'s buffer with another shape (reshape, flatten).</summary>
    protected Tensor EnsureViewOutput(Tape tape, Tensor source, ReadOnlySpan<int> dims)
    {
        if (Output is null || !ReferenceEquals(Output.Buffer, source.Buffer) || !Output.Shape.Dims.SequenceEqual(dims))
        {
            var replaced = Output;
            Output = new Tensor(new Shape(dims.ToArray()), source.Buffer);
            if (replaced is not null) tape.Recycle(replaced, OwnsOutput && ReferenceEquals(OutputKernels, tape.Kernels));
        }
        OwnsOutput = false;
        Output.Name = null;
        _parameterGradients = tape.ParameterGradients;
        Output.RequiresGrad = tape.GradEnabled && AnyInputRequiresGrad();
        return Output;
    }

    private IKernels? OutputKernels { get; set; }

    /// <summary>Whether Output has a buffer of its own (false for a view of an input's buffer).</summary>
    internal bool OwnsOutput { get; private set; }

    // The tape's Tape.ParameterGradients when this node was recorded.
    private bool _parameterGradients = true;

    private bool AnyInputRequiresGrad()
    {
        foreach (var input in _inputs)
            if (NeedsGradient(input)) return true;
        return false;
    }

    /// <summary>Whether backward must produce ∂L/∂input: it asks for one, and it is not a parameter frozen by the tape.</summary>
    private bool NeedsGradient(Tensor input) => input.RequiresGrad && (_parameterGradients || !input.IsParameter);

    /// <summary>The gradient buffer of <paramref name="input"/> if it needs one, else null.</summary>
    protected Tensor? GradOf(Tensor input) => NeedsGradient(input) ? input.Grad : null;

    /// <summary>
    /// The same, for a kernel that can write the gradient rather than add it: <paramref name="accumulate"/> is false
    /// when nothing has reached the buffer yet in this backward pass (it is not even zeroed).
    /// </summary>
    protected Tensor? GradOf(Tensor input, out bool accumulate)
    {
        accumulate = true;
        return NeedsGradient(input) ? input.TakeGradForWrite(out accumulate) : null;
    }

    /// <summary><see cref="GradOf(Tensor, out bool)"/> for input <paramref name="index"/>, for backward rules written outside the node class.</summary>
    internal Tensor? GradOfInput(int index, out bool accumulate) => GradOf(_inputs[index], out accumulate);

    public override string ToString() => $"{Kind} → {Output}";
}
