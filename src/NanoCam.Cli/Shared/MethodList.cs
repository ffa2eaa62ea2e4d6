using NanoCam.Explain.Methods;

namespace NanoCam.Cli.Shared;

/// <summary>The explanation methods by their command-line names — the CAM family and the input-space methods — and lists of them.</summary>
public static class MethodList
{
    /// <summary>The input-space methods (<see cref="InputAttributions.Names"/>: the guided ones, saliency, Integrated Gradients, …), run as an <see cref="InputAttribution"/> rather than a <see cref="Explain.CamMethod"/>.</summary>
    public static IReadOnlyList<string> InputSpace => InputAttributions.Names;

    /// <summary>Whether <paramref name="name"/> is an input-space method.</summary>
    public static bool IsInputSpace(string name) => InputAttributions.Contains(name);

    /// <summary>Every method, CAM family first (in <see cref="CamMethods.Names"/> order), then the input-space ones.</summary>
    public static IReadOnlyList<string> All { get; } = [.. CamMethods.Names, .. InputAttributions.Names];

    /// <summary>"all" → every method; otherwise the comma-separated names in the order given, duplicates dropped.</summary>
    public static IReadOnlyList<string> Parse(string value, string option) =>
        Problem(value, option) is { } problem ? throw new ArgumentException(problem) : Names(value);

    /// <summary>What is wrong with <paramref name="value"/> as a method list (one line naming the known methods), or null.</summary>
    public static string? Problem(string value, string option)
    {
        var names = Names(value);
        if (names.Count == 0) return $"{option} is empty: give all, or a comma-separated list of method names";
        var unknown = names.FirstOrDefault(name => !All.Contains(name));
        return unknown is null ? null : $"unknown method '{unknown}' in {option} (known: {string.Join(", ", All)}, all)";
    }

    /// <summary>Whether <paramref name="value"/> asks for more than one method (all, or a list of two or more).</summary>
    public static bool IsSeveral(string value) => value.Trim() == "all" || Names(value).Count > 1;

    private static IReadOnlyList<string> Names(string value) => value.Trim() == "all" ? All
        : value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Distinct().ToArray();
}
