namespace NanoCam.Onnx;

/// <summary>
/// The PyTorch module paths an exported graph carries in its node names. <c>torch.onnx.export</c> names a node by the
/// scopes of the modules it ran in, e.g. <c>/layer4/layer4.2/relu_2/Relu</c> or <c>/features/norm5/BatchNormalization</c>:
/// each scope is either the module's full dotted path (<c>layer4.2</c>) or its name within its parent (<c>norm5</c>, so
/// <c>features.norm5</c>). A module's output is the first output of the last node that ran inside it.
/// </summary>
public sealed class OnnxModulePaths
{
    private readonly Dictionary<string, string> _outputOf = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _modulesOf = new(StringComparer.Ordinal);

    public OnnxModulePaths(IReadOnlyList<OnnxNode> nodes)
    {
        foreach (var node in nodes)
        {
            if (node.Outputs.Count == 0 || node.Outputs[0].Length == 0) continue;
            foreach (var module in Scopes(node.Name)) _outputOf[module] = node.Outputs[0];
        }
        foreach (var (module, tensor) in _outputOf)
        {
            if (!_modulesOf.TryGetValue(tensor, out var list)) _modulesOf[tensor] = list = [];
            list.Add(module);
        }
        // Outermost first: "features.3" before "features.3.1".
        foreach (var list in _modulesOf.Values) list.Sort((a, b) => a.Length != b.Length ? a.Length.CompareTo(b.Length) : string.CompareOrdinal(a, b));
    }

    /// <summary>The module paths a node named <paramref name="nodeName"/> ran inside, outermost first.</summary>
    public static IEnumerable<string> Scopes(string nodeName)
    {
        if (!nodeName.StartsWith('/')) yield break;
        var parts = nodeName.Split('/', StringSplitOptions.RemoveEmptyEntries);
        string path = "";
        // The last part names the operator itself (Conv, Relu_1, …), not a module.
        for (int i = 0; i < parts.Length - 1; i++)
        {
            var part = parts[i];
            path = path.Length == 0 || part.StartsWith(path + ".", StringComparison.Ordinal) ? part : path + "." + part;
            yield return path;
        }
    }

    /// <summary>Every module path with its output tensor.</summary>
    public IReadOnlyDictionary<string, string> Outputs => _outputOf;

    /// <summary>The output tensor of module <paramref name="path"/>, or null when no node ran inside it.</summary>
    public string? OutputOf(string path) => _outputOf.GetValueOrDefault(path);

    /// <summary>The modules whose output <paramref name="tensor"/> is, outermost first (empty when none).</summary>
    public IReadOnlyList<string> ModulesOf(string tensor) => _modulesOf.TryGetValue(tensor, out var list) ? list : [];
}
