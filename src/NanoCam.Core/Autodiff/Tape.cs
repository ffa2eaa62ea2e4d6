namespace NanoCam.Autodiff;

/// <summary>
/// Reverse-mode autodiff: the forward pass records each operation as a <see cref="Node"/> in order;
/// <see cref="Backward(Tensor)"/> walks them in reverse, each node pushing its output's gradient to its inputs.
/// A tensor used twice receives the sum of both gradients, because backward rules accumulate.
///
/// Storage reuse: <see cref="Reset"/> rewinds the tape, and the next forward pass reuses the nodes (and their
/// output buffers) of the previous pass in order, so a steady training loop allocates nothing. The price:
/// a tensor computed in one pass is overwritten by the next pass — copy what must outlive it. A pass of another batch
/// size replaces the buffers; the replaced ones are kept as spares (<see cref="SpareBytes"/>) for a later node that
/// needs their size, so batch sizes that alternate (full batches and a last, shorter one) stop allocating too.
/// </summary>
public sealed partial class Tape
{
    private readonly List<Node> _nodes = [];
    private readonly Dictionary<string, Tensor> _named = [];
    // Names published since the table was last brought up to date, in order: a pass that nobody reads by name (an
    // imported model's no-grad forward) hashes none of them. Named, Find and the hooks' lookups see them all.
    private readonly List<(string Name, Tensor Tensor)> _pending = [];
    private NameTable? _table;
    private readonly Dictionary<string, Action<Tensor>> _forwardHooks = [];
    private readonly Dictionary<string, BackwardRule> _backwardRules = [];
    private readonly HashSet<string> _gradientTargets = [];
    private readonly HashSet<string> _kept = [];
    private int _count;
    // Buffers of outputs (and gradients) that a pass replaced by another shape, kept for a node that needs their size
    // again: a batch size that comes back (full batches, then a shorter last one, then full ones) finds its buffers
    // here instead of allocating a new set. The oldest are dropped while the spares hold more than the largest pass so
    // far, so the tape holds at most twice that.
    private readonly List<TensorBuffer> _spare = [];
    private long _spareElements, _largestPassElements;
    // Process-wide so that a tensor shared by two tapes is never mistaken for already zeroed.
    private static int s_generation;
    private int _generation;
    private ulong _pass;
    private ulong _draws;

    public Tape(IKernels kernels) => Kernels = kernels;

    /// <summary>The backend every recorded operation runs on.</summary>
    public IKernels Kernels { get; }

    /// <summary>False for no-grad inference: outputs never require gradients and <see cref="Backward(Tensor)"/> refuses to run.</summary>
    public bool GradEnabled { get; set; } = true;

    /// <summary>
    /// False: parameters are constants on this tape — backward computes no ∂L/∂W and leaves their Grad untouched, and
    /// a node whose only differentiable inputs are parameters is not differentiated at all. Explanations set it: they
    /// need ∂y^c/∂A at a layer (or ∂y^c/∂x), and the weight gradients would cost as much as the forward pass.
    /// </summary>
    public bool ParameterGradients { get; set; } = true;

    /// <summary>Modules read this: dropout drops and batch norm uses batch statistics only in training.</summary>
    public bool Training { get; set; }

    /// <summary>The nodes recorded since the last <see cref="Reset"/>, in forward order.</summary>
    public IReadOnlyList<Node> Nodes => _nodes.GetRange(0, _count);

    /// <summary>Number of nodes recorded since the last <see cref="Reset"/>.</summary>
    public int Count => _count;

    /// <summary>
    /// Bytes this pass keeps alive on the tape: every node's own output buffer (a view shares its source's) and every
    /// gradient buffer of those outputs. A caller sizes its batches from it (what one image takes, times the images).
    /// </summary>
    public long TensorBytes
    {
        get
        {
            long elements = 0;
            for (int i = 0; i < _count; i++)
            {
                var node = _nodes[i];
                if (node.OwnsOutput) elements += node.Output.Buffer.Length;
                if (node.Output.GradBuffer is { } grad) elements += grad.Buffer.Length;
            }
            return elements * sizeof(float);
        }
    }

    /// <summary>
    /// Bytes of the buffers kept for a later pass (outputs and gradients that a pass of another batch size replaced): at
    /// most the largest pass's <see cref="TensorBytes"/> so far.
    /// </summary>
    public long SpareBytes => _spareElements * sizeof(float);

    /// <summary>
    /// A zeroed tensor of <paramref name="shape"/> for a node output or a gradient: a spare buffer of exactly that size
    /// when there is one (the newest), else a new one from the backend.
    /// </summary>
    internal Tensor Allocate(Shape shape)
    {
        for (int i = _spare.Count - 1; i >= 0; i--)
        {
            if (_spare[i].Length != shape.Size) continue;
            var tensor = new Tensor(shape, _spare[i]);
            _spareElements -= _spare[i].Length;
            _spare.RemoveAt(i);
            Kernels.Fill(tensor, 0f);
            return tensor;
        }
        return Kernels.Allocate(shape);
    }

    /// <summary>
    /// Takes back what a node output of an earlier pass held when the node replaced it: its gradient buffer, and its own
    /// buffer when <paramref name="ownsBuffer"/> (not a view of another's). No tensor of an earlier pass is read after
    /// the next pass starts (see the class summary), so a later node, even of this pass, may take them.
    /// </summary>
    internal void Recycle(Tensor replaced, bool ownsBuffer)
    {
        if (ownsBuffer) Keep(replaced.Buffer);
        if (replaced.GradBuffer is { } grad) Keep(grad.Buffer);
        while (_spareElements > _largestPassElements)
        {
            _spareElements -= _spare[0].Length;
            _spare.RemoveAt(0);
        }
    }

    private void Keep(TensorBuffer buffer)
    {
        _spare.Add(buffer);
        _spareElements += buffer.Length;
    }

    /// <summary>The tensors published under a name in this pass (module outputs, ONNX tensor names).</summary>
    public IReadOnlyDictionary<string, Tensor> Named => _table ??= new NameTable(this);

    /// <summary>Moves the names published since the last call into the table, in the order they were published.</summary>
    private Dictionary<string, Tensor> NamesNow()
    {
        if (_pending.Count > 0)
        {
            foreach (var (name, tensor) in _pending) _named[name] = tensor;
            _pending.Clear();
        }
        return _named;
    }

    /// <summary><see cref="Named"/>: the tape's names, brought up to date on every read.</summary>
    private sealed class NameTable(Tape tape) : IReadOnlyDictionary<string, Tensor>
    {
        public Tensor this[string key] => tape.NamesNow()[key];
        public IEnumerable<string> Keys => tape.NamesNow().Keys;
        public IEnumerable<Tensor> Values => tape.NamesNow().Values;
        public int Count => tape.NamesNow().Count;
        public bool ContainsKey(string key) => tape.NamesNow().ContainsKey(key);
        public bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out Tensor value) => tape.NamesNow().TryGetValue(key, out value);
        public IEnumerator<KeyValuePair<string, Tensor>> GetEnumerator() => tape.NamesNow().GetEnumerator();
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>Rewinds the tape for a new forward pass (keeping nodes and buffers for reuse).</summary>
    public void Reset()
    {
        _largestPassElements = Math.Max(_largestPassElements, TensorBytes / sizeof(float));
        _count = 0;
        _named.Clear();
        _pending.Clear();
        _pass++;
        _draws = 0;
    }

    /// <summary>Seed of the random draws made by operations (dropout masks); with the pass count it fixes every mask.</summary>
    public ulong Seed { get; set; }

    /// <summary>A fresh seed for one random operation of this pass, determined by (Seed, pass, draw).</summary>
    public ulong NextRandomSeed() => CounterRng.Hash(Seed, (_pass << 24) + _draws++);

    /// <summary>The node for the next operation: last pass's node at this position when it has the same type.</summary>
    public T Next<T>() where T : Node, new()
    {
        T node;
        if (_count < _nodes.Count && _nodes[_count] is T reused) node = reused;
        else
        {
            node = new T();
            if (_count < _nodes.Count)
            {
                // The graph changed shape: drop the stale tail.
                _nodes.RemoveRange(_count, _nodes.Count - _count);
            }
            _nodes.Add(node);
        }
        _count++;
        return node;
    }

    /// <summary>
    /// Gives <paramref name="tensor"/> a name for this pass, so that hooks can read it and its gradient;
    /// runs the forward hook registered for that name (which may read or modify the tensor in place).
    /// </summary>
    public Tensor Publish(Tensor tensor, string name)
    {
        tensor.Name = name;
        _pending.Add((name, tensor));
        // Most passes have neither gradient targets nor hooks: skip the two lookups then.
        if (_gradientTargets.Count > 0 && GradEnabled && _gradientTargets.Contains(name)) tensor.RequiresGrad = true;
        if (_forwardHooks.Count > 0 && _forwardHooks.TryGetValue(name, out var hook)) hook(tensor);
        return tensor;
    }

    /// <summary>The tensor published under <paramref name="name"/> in this pass; its Grad holds ∂L/∂it after backward.</summary>
    public Tensor Find(string name)
    {
        // The newest publication of the name wins, as in the table: a few names are looked for among the pending ones
        // without hashing every name of the pass.
        for (int i = _pending.Count - 1; i >= 0; i--)
            if (string.Equals(_pending[i].Name, name, StringComparison.Ordinal)) return _pending[i].Tensor;
        var named = NamesNow();
        return named.TryGetValue(name, out var t) ? t
            : throw new KeyNotFoundException($"no tensor named '{name}' in this forward pass; known names: {string.Join(", ", named.Keys.Take(40))}{(named.Count > 40 ? ", ..." : "")}");
    }

    /// <summary>Runs <paramref name="hook"/> on the tensor named <paramref name="name"/> right after it is computed.</summary>
    public void AddForwardHook(string name, Action<Tensor> hook) => _forwardHooks[name] = hook;

    public void RemoveForwardHook(string name) => _forwardHooks.Remove(name);

    /// <summary>
    /// Makes backward compute the gradient at the named tensor even when nothing upstream of it is trainable
    /// (Grad-CAM on a frozen network needs ∂y/∂A at the target layer, nothing more).
    /// </summary>
    public void RequireGradient(string name) => _gradientTargets.Add(name);

    public void ClearRequiredGradients() => _gradientTargets.Clear();

    /// <summary>
    /// Asks every pass to publish the tensor named <paramref name="name"/> as its own tensor, for a caller that reads it
    /// after the pass: a no-grad pass may otherwise fuse it away (an imported convolution's output into its ReLU).
    /// </summary>
    public void Keep(string name) => _kept.Add(name);

    /// <summary>Whether a pass must publish <paramref name="name"/>: it is kept, hooked, or a gradient target.</summary>
    public bool IsObserved(string name) => _kept.Contains(name) || _forwardHooks.ContainsKey(name) || _gradientTargets.Contains(name);

    /// <summary>Removes every forward hook, backward-rule override and kept name, so that a rewound tape can serve another kind of pass.</summary>
    public void ClearHooksAndOverrides()
    {
        _forwardHooks.Clear();
        _backwardRules.Clear();
        _kept.Clear();
    }

    /// <summary>Replaces the backward rule of every node of <paramref name="kind"/> (null restores the node's own rule).</summary>
    public void OverrideBackward(string kind, BackwardRule? rule)
    {
        if (rule is null) _backwardRules.Remove(kind);
        else _backwardRules[kind] = rule;
    }

    /// <summary>Backward from a scalar loss: seeds ∂L/∂L = 1.</summary>
    public void Backward(Tensor loss)
    {
        if (loss.Size != 1) throw new ArgumentException($"backward from a non-scalar tensor of shape {loss.Shape} needs an explicit seed gradient");
        BeginBackward(loss);
        Kernels.Fill(loss.Grad!, 1f);
        Walk(loss);
    }

    /// <summary>
    /// Backward from any tensor with an explicit seed ∂L/∂output (e.g. a one-hot on the logits for class c,
    /// which makes L = y^c as Grad-CAM needs).
    /// </summary>
    public void Backward(Tensor output, Tensor seedGradient)
    {
        if (seedGradient.Shape != output.Shape)
            throw new ArgumentException($"seed gradient has shape {seedGradient.Shape} but the output has shape {output.Shape}");
        BeginBackward(output);
        Kernels.Copy(output.Grad!, seedGradient);
        Walk(output);
    }

    private void BeginBackward(Tensor root)
    {
        if (!GradEnabled) throw new InvalidOperationException("this tape runs without gradients (no-grad mode): nothing was recorded to differentiate");
        if (!root.RequiresGrad) throw new InvalidOperationException($"{root} does not depend on any tensor that requires a gradient");
        _generation = Interlocked.Increment(ref s_generation);
        // Zero every non-parameter gradient this pass touches; parameters accumulate until the optimizer zeroes them.
        for (int i = 0; i < _count; i++)
        {
            var node = _nodes[i];
            ZeroGradient(node.Output);
            foreach (var input in node.Inputs) ZeroGradient(input);
        }
    }

    private void ZeroGradient(Tensor tensor)
    {
        if (!tensor.RequiresGrad || (tensor.IsParameter && !ParameterGradients)) return;
        if (tensor.GradBuffer is null || tensor.GradBuffer.Shape != tensor.Shape)
        {
            tensor.Grad = Allocate(tensor.Shape);
            tensor.GradGeneration = _generation;
            return;
        }
        if (tensor.IsParameter || tensor.GradGeneration == _generation) return;
        // Zeroed on first use: a kernel that writes the first gradient whole skips the fill (Tensor.Grad).
        tensor.DeferZeroGrad(Kernels);
        tensor.GradGeneration = _generation;
    }

    /// <summary>
    /// The tensor the running (or last) backward pass started from: a backward rule that needs the whole graph above it
    /// (relevance propagation checks every operation on the way down) finds the root here.
    /// </summary>
    public Tensor? BackwardRoot { get; private set; }

    private void Walk(Tensor root)
    {
        BackwardRoot = root;
        int last = _count - 1;
        while (last >= 0 && !ReferenceEquals(_nodes[last].Output, root)) last--;
        if (last < 0) throw new InvalidOperationException($"{root} was not computed on this tape in this pass");
        for (int i = last; i >= 0; i--)
        {
            var node = _nodes[i];
            if (!node.Output.RequiresGrad) continue;
            if (_backwardRules.TryGetValue(node.Kind, out var rule)) rule(node, Kernels);
            else node.Backward(Kernels);
        }
    }
}
