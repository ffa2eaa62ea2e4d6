namespace NanoCam.Onnx.Training;

/// <summary>
/// Which parameters a freeze prefix keeps fixed: those whose ONNX name starts with it (<c>features.0.weight</c>), or
/// whose PyTorch module path does — the innermost module scope of a node that reads the parameter
/// (<see cref="OnnxModulePaths.Scopes"/>), which also names weights that export renamed (<c>onnx::Conv_123</c>, a
/// convolution with its batch norm folded in). Prefixes match literally: <c>layer1</c> also matches <c>layer10</c>;
/// <c>layer1.</c> stops at the dot.
/// </summary>
public static class GraphFreezing
{
    /// <summary>The module paths of each parameter (innermost scope of each node that reads it), by ONNX name.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> ModulePathsOfParameters(OnnxModel model)
    {
        var paths = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var node in model.Nodes)
        {
            var innermost = OnnxModulePaths.Scopes(node.Name).LastOrDefault();
            if (innermost is null) continue;
            foreach (var input in node.Inputs)
            {
                if (!model.Parameters.ContainsKey(input)) continue;
                if (!paths.TryGetValue(input, out var list)) paths[input] = list = [];
                if (!list.Contains(innermost)) list.Add(innermost);
            }
        }
        return paths.ToDictionary(p => p.Key, p => (IReadOnlyList<string>)p.Value, StringComparer.Ordinal);
    }

    /// <summary>The parameters the prefixes freeze; a prefix that matches none is refused in one line that lists candidates.</summary>
    public static HashSet<string> Resolve(OnnxModel model, IReadOnlyList<string> prefixes)
    {
        var frozen = new HashSet<string>(StringComparer.Ordinal);
        if (prefixes.Count == 0) return frozen;
        var paths = ModulePathsOfParameters(model);
        foreach (var prefix in prefixes)
        {
            if (prefix.Length == 0) throw new ArgumentException("--freeze: an empty prefix would freeze everything; name a layer");
            var matched = model.Parameters.Keys.Where(name => name.StartsWith(prefix, StringComparison.Ordinal)
                || paths.TryGetValue(name, out var modules) && modules.Any(m => m.StartsWith(prefix, StringComparison.Ordinal))).ToList();
            if (matched.Count == 0)
                throw new ArgumentException($"--freeze '{DisplayText.Quote(prefix, 60)}' matches no parameter by ONNX name or PyTorch module path; some that would: {string.Join(", ", Candidates(model, paths))}");
            frozen.UnionWith(matched);
        }
        return frozen;
    }

    /// <summary>A few prefixes that do match: the outermost module paths, then parameter names.</summary>
    private static IEnumerable<string> Candidates(OnnxModel model, IReadOnlyDictionary<string, IReadOnlyList<string>> paths)
    {
        var modules = paths.Values.SelectMany(m => m).Select(m => m.Split('.')[0]).Distinct().Take(5);
        var names = model.Parameters.Keys.OrderBy(k => k, StringComparer.Ordinal).Take(4);
        return modules.Concat(names).Distinct().Take(8).Select(c => DisplayText.Quote(c, 40));
    }
}
