using NanoCam.Autodiff;
using NanoCam.Elementwise;
using NanoCam.Ops;

namespace NanoCam.Onnx;

/// <summary>
/// The exported exact GELU chains (<see cref="OnnxFusionPatterns.GeluChains"/>), run as one <see cref="Gelu"/> node
/// when fusing is on (<see cref="OnnxModel.Fuse"/>), in no-grad passes and in passes with gradients alike (its
/// derivative Φ(x) + x·φ(x) is the chain's, so Grad-CAM and training get it too). A chain runs fused only when the
/// tape observes none of its intermediate tensors (<see cref="Tape.IsObserved"/>); else its five nodes run as usual.
/// The fused value is x·Φ(x) with Φ from erfc for x &lt; 0, so it differs from the chain's float arithmetic by a few
/// ulp (more in the far negative tail, where 1 + erf(x/√2) cancels in the chain).
/// </summary>
internal sealed class OnnxGeluFusion
{
    private readonly Dictionary<OnnxNode, GeluMatch> _byNode = [];

    public OnnxGeluFusion(OnnxFusionPatterns patterns)
    {
        var chains = patterns.GeluChains();
        foreach (var chain in chains)
            foreach (var node in chain.Nodes) _byNode[node] = chain;
        Count = chains.Count;
    }

    /// <summary>How many chains the model has.</summary>
    public int Count { get; }

    /// <summary>Whether <paramref name="node"/> belongs to a GELU chain (fixed per model).</summary>
    internal bool Covers(OnnxNode node) => _byNode.ContainsKey(node);

    /// <summary>Per-pass decisions, one per chain: 0 not reached yet, 1 fused, 2 run as plain nodes.</summary>
    public int[] NewPassState() => new int[Count];

    /// <summary>
    /// Whether the pass skips <paramref name="node"/> because its chain runs fused. The first of a chain's nodes the pass
    /// reaches decides: when nothing in it is observed and x is a float tensor, y = GELU(x) is computed, published under
    /// the chain's output name and put in <paramref name="env"/>.
    /// </summary>
    public bool TryRun(OnnxNode node, int[] decisions, Tape tape, Planning.PassValues env)
    {
        if (!_byNode.TryGetValue(node, out var chain)) return false;
        ref int decision = ref decisions[chain.Index];
        if (decision == 0)
        {
            decision = 2;
            if (!IntermediatesObserved(chain, tape) && env.TryGetValue(chain.Input, out var x)
                && x.ElementType == OnnxDataType.Float && x.Tensor is { } input)
            {
                var y = tape.Unary(input, new Gelu());
                env[chain.Output] = OnnxValue.FromTensor(y);
                tape.Publish(y, chain.Output);
                decision = 1;
            }
        }
        return decision == 1;
    }

    private static bool IntermediatesObserved(GeluMatch chain, Tape tape)
    {
        foreach (var node in chain.Nodes)
            if (node.Outputs[0] != chain.Output && tape.IsObserved(node.Outputs[0])) return true;
        return false;
    }
}
