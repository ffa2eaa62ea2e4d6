using NanoCam.Onnx.Operators;

namespace NanoCam.Onnx.Planning;

/// <summary>Where one input of a live node comes from, decided once per folded plan.</summary>
internal enum InputSource : byte
{
    /// <summary>An omitted optional input (empty name).</summary>
    Omitted,
    /// <summary>A graph input or a live node's output: read from the pass's environment.</summary>
    Pass,
    /// <summary>A value the plan folded (a constant computed from shapes and constants).</summary>
    Known,
    /// <summary>An initializer (a parameter or an integer constant).</summary>
    Initializer,
}

/// <summary>
/// One live node of a folded plan with what a pass would otherwise look up by name on every run: its operator, and for
/// each input where its value comes from and the host value (known or initializer) it has.
/// </summary>
internal sealed class PassStep(OnnxNode node, OnnxOperator? op, InputSource[] sources, OnnxValue?[] host, int[] slots, int[] outputSlots, bool gelu, bool fusable)
{
    public readonly OnnxNode Node = node;

    /// <summary>The node's operator from the registry (null for an op type it does not hold, as a lookup would give).</summary>
    public readonly OnnxOperator? Operator = op;

    public readonly InputSource[] Sources = sources;

    /// <summary>Per input: its slot in the pass's values (<see cref="PassValues"/>) for a Pass input, else -1.</summary>
    public readonly int[] Slots = slots;

    /// <summary>Per output: its slot, -1 for an omitted (empty) output.</summary>
    public readonly int[] OutputSlots = outputSlots;

    /// <summary>Whether the node is part of a GELU chain the pass may run as one node.</summary>
    public readonly bool Gelu = gelu;

    /// <summary>Whether the inference plan may run the node (fused convolution, folded stage, concat, in-place scale).</summary>
    public readonly bool Fusable = fusable;

    /// <summary>Per input: the host value when known at fold time (Known, or a Pass input the plan knows), the initializer's value, else null.</summary>
    public readonly OnnxValue?[] Host = host;

    /// <summary>For a MatMul whose bias Add may run with it: the Add's step index, else −1 (see OnnxModel's MatMul + bias fusion).</summary>
    public int BiasAdd = -1;

    /// <summary>Which input of that Add is the bias.</summary>
    public int BiasSide;
}
