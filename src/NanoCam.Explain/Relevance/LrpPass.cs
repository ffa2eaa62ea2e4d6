using NanoCam.Autodiff;
using NanoCam.Ops;

namespace NanoCam.Explain.Relevance;

/// <summary>
/// Layer-wise Relevance Propagation (Bach et al. 2015) as backward rules on a tape: the tensor's Grad carries relevance R
/// instead of ∂y/∂x, and every operation on the way from the scores down to the image gets the rule of its kind, chosen at
/// explanation time (like Guided Backprop's ReLU rule) with the model unchanged. Linear layers follow <see cref="LrpSettings.Rule"/>
/// (<see cref="LinearRelevance"/>); ReLU passes R through; max pooling, concatenation and reshapes move R where the gradient
/// goes (winner takes all, each input its slice); average pooling, GAP and residual additions split R in proportion to the
/// contributions z_i / Σ z; batch norm is folded into the convolution before it (Montavon et al. 2019, Sec. 10.3.1). Every
/// rule is linear in the relevance it receives, so a pass seeded with a one-hot gives R for y^c = 1 (<see cref="Methods.Lrp"/>
/// scales by y^c). An operation with no rule is refused in one line that names it.
/// </summary>
public sealed class LrpPass
{
    private readonly Tape _tape;
    private readonly LrpSettings _settings;
    private readonly Dictionary<Node, Node> _affineAfter = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<Node> _folded = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<Node> _readsInput = new(ReferenceEqualityComparer.Instance);

    private LrpPass(Tape tape, LrpSettings settings)
    {
        _tape = tape;
        _settings = settings;
    }

    /// <summary>Whether a backward pass reached a rule (and checked every operation between the scores and the image).</summary>
    public bool Planned { get; private set; }

    /// <summary>The operation kinds that have a relevance rule.</summary>
    public static IReadOnlyList<string> Kinds { get; } =
        ["Conv2d", "MatMul", "Add", "BatchNorm", "Relu", "MaxPool2d", "AvgPool2d", "GlobalAvgPool", "Concat", "Reshape"];

    /// <summary>Installs the relevance rules on <paramref name="tape"/> for its next backward pass.</summary>
    public static LrpPass Install(Tape tape, LrpSettings settings)
    {
        var pass = new LrpPass(tape, settings);
        foreach (var kind in Kinds) tape.OverrideBackward(kind, (node, kernels) => { pass.Plan(); pass.Propagate(node, kernels); });
        return pass;
    }

    /// <summary>
    /// The rule <paramref name="node"/>'s linear layer uses, and whether it is z^B instead (the composite's rule for the
    /// layer that reads the image; Montavon et al. 2017, "Explaining nonlinear classification decisions with deep Taylor
    /// decomposition", Sec. 4.2, inputs bounded by l ≤ x ≤ h).
    /// </summary>
    internal (LrpRule Rule, bool Bounded) RuleOf(Node node) => _settings.Rule switch
    {
        LrpRule.Composite when _readsInput.Contains(node) => (LrpRule.Zero, true),
        LrpRule.Composite => (node is Conv2dNode ? LrpRule.Gamma : LrpRule.Epsilon, false),
        var rule => (rule, false),
    };

    private void Propagate(Node node, IKernels kernels)
    {
        switch (node.Kind)
        {
            case "Conv2d" or "MatMul":
                var (rule, bounded) = RuleOf(node);
                LinearRelevance.Propagate(node, _affineAfter.GetValueOrDefault(node), rule, bounded, _settings, kernels);
                break;
            case "Relu":
                PassThrough(node, kernels);
                break;
            case "BatchNorm" when _folded.Contains(node):
            case "Add" when _folded.Contains(node):
                // Folded into the linear layer below: its rule sees z of the whole affine map.
                PassThrough(node, kernels);
                break;
            case "BatchNorm":
                StructuralRelevance.BatchNorm((BatchNormNode)node, kernels);
                break;
            case "Add":
                StructuralRelevance.Add((BinaryNode)node, kernels);
                break;
            case "AvgPool2d" or "GlobalAvgPool":
                StructuralRelevance.Pooling(node, kernels);
                break;
            default:
                // Max pooling, concatenation, reshape: the gradient moves values without mixing them, and so moves R.
                node.Backward(kernels);
                break;
        }
    }

    /// <summary>R_in = R_out (ReLU; an affine map folded into the layer below).</summary>
    private static void PassThrough(Node node, IKernels kernels)
    {
        if (RelevanceOf(node.Inputs[0]) is { } target) kernels.AddScaled(target, node.Output.Grad!, 1f);
    }

    /// <summary>Where relevance reaching <paramref name="tensor"/> accumulates: its Grad when it is an activation (not a weight or a constant).</summary>
    internal static Tensor? RelevanceOf(Tensor tensor) => tensor.RequiresGrad && !tensor.IsParameter ? tensor.Grad : null;

    /// <summary>Whether relevance flows to <paramref name="tensor"/>.</summary>
    internal static bool Receives(Tensor tensor) => tensor.RequiresGrad && !tensor.IsParameter;

    /// <summary>
    /// Once per backward pass, before the first rule runs: the operations between the root and the image, each checked for a
    /// rule; the affine maps folded into the linear layer below them (a batch norm after a convolution, a bias after a
    /// MatMul, each that layer's only reader); the linear layers that read the image itself (z^B in the composite).
    /// </summary>
    private void Plan()
    {
        if (Planned) return;
        var root = _tape.BackwardRoot ?? throw new InvalidOperationException("lrp: no backward pass is running");
        var nodes = _tape.Nodes;
        int last = nodes.Count - 1;
        while (last >= 0 && !ReferenceEquals(nodes[last].Output, root)) last--;
        var onPath = new HashSet<Tensor>(ReferenceEqualityComparer.Instance) { root };
        var producers = new Dictionary<Tensor, Node>(ReferenceEqualityComparer.Instance);
        var readers = new Dictionary<Tensor, int>(ReferenceEqualityComparer.Instance);
        var pathNodes = new List<Node>();
        for (int i = last; i >= 0; i--)
        {
            var node = nodes[i];
            if (!onPath.Contains(node.Output)) continue;
            if (!Kinds.Contains(node.Kind))
                throw new NotSupportedException($"lrp: no relevance rule for the operation '{node.Kind}' (rules exist for {string.Join(", ", Kinds)})");
            pathNodes.Add(node);
            producers[node.Output] = node;
            foreach (var input in node.Inputs)
                if (Receives(input))
                {
                    onPath.Add(input);
                    readers[input] = readers.GetValueOrDefault(input) + 1;
                }
        }
        foreach (var node in pathNodes)
        {
            var data = node.Inputs[0];
            bool onlyReader = readers.GetValueOrDefault(data) == 1;
            if (node is BatchNormNode && producers.GetValueOrDefault(data) is Conv2dNode conv && onlyReader)
            {
                _affineAfter[conv] = node;
                _folded.Add(node);
            }
            else if (node is BinaryNode { Op: BinaryOp.Add } add && BiasOf(add) is var (activation, bias)
                && producers.GetValueOrDefault(activation) is MatMulNode matMul && readers.GetValueOrDefault(activation) == 1
                && add.Output.Shape.Rank == 2 && bias.Size == add.Output.Shape[1])
            {
                _affineAfter[matMul] = node;
                _folded.Add(node);
            }
            if (node is Conv2dNode or MatMulNode && Receives(data) && ReadsImage(data, producers)) _readsInput.Add(node);
        }
        Planned = true;
    }

    /// <summary>Whether <paramref name="tensor"/> is the image itself, or a reshape of it (a flattened input).</summary>
    private static bool ReadsImage(Tensor tensor, Dictionary<Tensor, Node> producers)
    {
        while (producers.GetValueOrDefault(tensor) is { Kind: "Reshape" } reshape) tensor = reshape.Inputs[0];
        return !producers.ContainsKey(tensor);
    }

    /// <summary>An addition of an activation and a constant (a bias): the two, in that order; null for two activations.</summary>
    internal static (Tensor Activation, Tensor Bias)? BiasOf(BinaryNode add) =>
        (Receives(add.A), Receives(add.B)) switch
        {
            (true, false) => (add.A, add.B),
            (false, true) => (add.B, add.A),
            _ => null,
        };
}
