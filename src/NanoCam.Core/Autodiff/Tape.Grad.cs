namespace NanoCam.Autodiff;

/// <summary>
/// Gradients as tensors (PyTorch's torch.autograd.grad): ∂y/∂x for chosen x, returned rather than accumulated into Grad.
/// With createGraph the backward pass is itself recorded on this tape (each node's <see cref="Node.BackwardTaped"/>
/// appends ordinary ops after the forward ones), so a loss built from the gradients differentiates again with
/// <see cref="Backward(Tensor)"/>: gradient of a gradient, Hessian-vector products, Grad-CAM fostering.
/// The first-order <see cref="Backward(Tensor)"/> path is untouched by this file.
/// </summary>
public sealed partial class Tape
{
    // The tensors that depend on a differentiated input, while a taped Grad runs (null otherwise: every tensor qualifies).
    private HashSet<Tensor>? _gradientPath;
    // Reused by every taped Grad, so that a steady second-order step allocates nothing: the path set, the table of
    // gradients reached so far, and the seed of ones for a scalar y.
    private readonly HashSet<Tensor> _pathTensors = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Tensor, Tensor> _tapedGradients = new(ReferenceEqualityComparer.Instance);
    private Tensor? _onesSeed;

    /// <summary>Whether the running taped <see cref="Grad(Tensor, Tensor, Tensor?, bool)"/> needs ∂y/∂<paramref name="tensor"/>: it depends on one of the inputs asked for.</summary>
    public bool IsOnGradientPath(Tensor tensor) => _gradientPath is null || _gradientPath.Contains(tensor);

    /// <summary>
    /// ∂y/∂x for each x in <paramref name="inputs"/>, with ∂L/∂y = <paramref name="seed"/> (ones for a scalar y when null).
    /// Without <paramref name="createGraph"/>: the ordinary backward pass, the results copied out; every Grad on the tape
    /// (parameters' included) is left as it was. With it: each result is an output of ops recorded on this tape after the
    /// forward pass, so that <see cref="Backward(Tensor)"/> from anything computed from it reaches the forward inputs and
    /// parameters again (second order). An input y does not depend on gets zeros.
    /// </summary>
    public Tensor[] Grad(Tensor y, IReadOnlyList<Tensor> inputs, Tensor? seed = null, bool createGraph = false)
    {
        CheckSeed(y, seed);
        if (!createGraph) return GradFirstOrder(y, inputs, seed);
        var path = _pathTensors;
        path.Clear();
        foreach (var input in inputs) path.Add(input);
        GradTaped(y, seed);
        var results = new Tensor[inputs.Count];
        for (int i = 0; i < results.Length; i++) results[i] = TakeTapedGradient(inputs[i]);
        EndTapedGrad();
        return results;
    }

    /// <summary>
    /// ∂y/∂<paramref name="input"/> for one input, as <see cref="Grad(Tensor, IReadOnlyList{Tensor}, Tensor?, bool)"/>;
    /// with <paramref name="createGraph"/> it allocates nothing once the tape has seen the pass (a training step that
    /// differentiates through a gradient every batch, as Grad-CAM fostering does).
    /// </summary>
    public Tensor Grad(Tensor y, Tensor input, Tensor? seed = null, bool createGraph = false)
    {
        CheckSeed(y, seed);
        if (!createGraph) return GradFirstOrder(y, [input], seed)[0];
        _pathTensors.Clear();
        _pathTensors.Add(input);
        GradTaped(y, seed);
        var result = TakeTapedGradient(input);
        EndTapedGrad();
        return result;
    }

    private static void CheckSeed(Tensor y, Tensor? seed)
    {
        if (seed is null && y.Size != 1) throw new ArgumentException($"Grad of a non-scalar tensor of shape {y.Shape} needs an explicit seed gradient");
        if (seed is not null && seed.Shape != y.Shape) throw new ArgumentException($"seed gradient has shape {seed.Shape} but y has shape {y.Shape}");
    }

    private Tensor[] GradFirstOrder(Tensor y, IReadOnlyList<Tensor> inputs, Tensor? seed)
    {
        // Parameters keep their Grad across backward passes: save what they hold, start them from zero, restore afterwards.
        var saved = new Dictionary<Tensor, Tensor>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < _count; i++)
            foreach (var input in _nodes[i].Inputs)
                if (input.IsParameter && input.GradBuffer is { } grad && !saved.ContainsKey(input))
                {
                    var copy = Kernels.Allocate(grad.Shape);
                    Kernels.Copy(copy, input.Grad!);
                    Kernels.Fill(input.Grad!, 0f);
                    saved[input] = copy;
                }
        if (seed is null) Backward(y); else Backward(y, seed);
        var results = new Tensor[inputs.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            results[i] = Kernels.Allocate(inputs[i].Shape);
            if (inputs[i].RequiresGrad && inputs[i].Grad is { } grad) Kernels.Copy(results[i], grad);
        }
        foreach (var (parameter, copy) in saved) Kernels.Copy(parameter.Grad!, copy);
        return results;
    }

    // The taped walk from y down to the inputs already in _pathTensors; the gradients are left in _tapedGradients.
    private void GradTaped(Tensor y, Tensor? seed)
    {
        if (!GradEnabled) throw new InvalidOperationException("this tape runs without gradients (no-grad mode): nothing was recorded to differentiate");
        int root = _count - 1;
        while (root >= 0 && !ReferenceEquals(_nodes[root].Output, y)) root--;
        if (root < 0) throw new InvalidOperationException($"{y} was not computed on this tape in this pass");

        // The tensors between the inputs and y: only their gradients are recorded (no ∂y/∂W for weights nobody asked about).
        var path = _pathTensors;
        for (int i = 0; i <= root; i++)
            foreach (var input in _nodes[i].Inputs)
                if (path.Contains(input)) { path.Add(_nodes[i].Output); break; }

        if (seed is null)
        {
            // A constant of this tape, reused from pass to pass: ∂y/∂y = 1 for the scalar y.
            if (_onesSeed is null || _onesSeed.Shape != y.Shape) _onesSeed = Kernels.Allocate(y.Shape);
            Kernels.Fill(_onesSeed, 1f);
            seed = _onesSeed;
        }
        var gradients = _tapedGradients;
        gradients.Clear();
        gradients[y] = seed;
        _gradientPath = path;
        try
        {
            for (int i = root; i >= 0; i--)
            {
                var node = _nodes[i];
                if (!node.Output.RequiresGrad || !path.Contains(node.Output) || !gradients.TryGetValue(node.Output, out var gradOutput)) continue;
                if (_backwardRules.ContainsKey(node.Kind))
                    throw new NotSupportedException($"second-order gradients: the backward rule of {node.Kind} is overridden on this tape; a taped Grad differentiates the true rule only");
                var inputGradients = node.BackwardTaped(this, gradOutput);
                var nodeInputs = node.Inputs;
                for (int j = 0; j < inputGradients.Length; j++)
                {
                    if (inputGradients[j] is not { } gradient) continue;
                    var input = nodeInputs[j];
                    // A tensor read twice receives the sum of both gradients, as a taped addition.
                    gradients[input] = gradients.TryGetValue(input, out var earlier) ? Ops.TapeOps.Add(this, earlier, gradient) : gradient;
                }
            }
        }
        finally
        {
            _gradientPath = null;
        }
    }

    // ∂y/∂input from the finished walk (zeros when y does not depend on it).
    private Tensor TakeTapedGradient(Tensor input) =>
        _tapedGradients.TryGetValue(input, out var gradient) ? gradient : Kernels.Allocate(input.Shape);

    // The tables hold this pass's tensors only while a taped Grad runs.
    private void EndTapedGrad()
    {
        _tapedGradients.Clear();
        _pathTensors.Clear();
    }
}
