using System.Diagnostics.CodeAnalysis;

namespace NanoCam.Onnx.Planning;

/// <summary>
/// One pass's environment: the value of each graph input and node output, held in a slot per name (numbered once per
/// model) so that the pass reads and writes by index; by name where a plan step names a value.
/// </summary>
internal sealed class PassValues(IReadOnlyDictionary<string, int> slotOf)
{
    /// <summary>The values by slot; null where nothing was computed (yet, or fused away).</summary>
    public readonly OnnxValue?[] Slots = new OnnxValue?[slotOf.Count];

    // Names without a slot (none in a well-formed graph), kept as a dictionary would.
    private readonly Dictionary<string, OnnxValue> _other = [];

    /// <summary>Forgets every value (the start of a pass).</summary>
    public void Clear()
    {
        Array.Clear(Slots);
        if (_other.Count > 0) _other.Clear();
    }

    /// <summary>The value named <paramref name="name"/>, when the pass holds one.</summary>
    public bool TryGetValue(string name, [NotNullWhen(true)] out OnnxValue? value)
    {
        if (slotOf.TryGetValue(name, out int slot)) value = Slots[slot];
        else value = _other.GetValueOrDefault(name);
        return value is not null;
    }

    /// <summary>Sets the value named <paramref name="name"/>.</summary>
    public OnnxValue this[string name]
    {
        set
        {
            if (slotOf.TryGetValue(name, out int slot)) Slots[slot] = value;
            else _other[name] = value;
        }
    }
}
