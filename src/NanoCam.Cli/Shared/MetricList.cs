namespace NanoCam.Cli.Shared;

/// <summary>
/// The metric families of <c>evaluate-explanations --metrics</c> by name: faithfulness (deletion / insertion, average
/// drop / increase, ROAD), robustness (max / average sensitivity, local Lipschitz), complexity (sparseness, entropy),
/// localization (pointing game, CAM-paper boxes) and sanity (the model-parameter randomization cascade).
/// </summary>
public sealed record MetricList(bool Faithfulness, bool Robustness, bool Complexity, bool Localization, bool Sanity)
{
    /// <summary>Every family's name, in the order the table shows them.</summary>
    public static IReadOnlyList<string> Names { get; } = ["faithfulness", "robustness", "complexity", "localization", "sanity"];

    /// <summary>What <c>--metrics</c> means when it is not given: every family but sanity (which re-explains each image once per layer).</summary>
    public const string Default = "faithfulness,robustness,complexity,localization";

    /// <summary>"all" → every family; otherwise the comma-separated names, each known.</summary>
    public static MetricList Parse(string value, string option)
    {
        if (Problem(value, option) is { } problem) throw new ArgumentException(problem);
        var names = Split(value);
        bool Has(string name) => names.Contains(name) || names.Contains("all");
        return new MetricList(Has("faithfulness"), Has("robustness"), Has("complexity"), Has("localization"), Has("sanity"));
    }

    /// <summary>What is wrong with <paramref name="value"/> as a list of metric families (one line naming the known ones), or null.</summary>
    public static string? Problem(string value, string option)
    {
        var names = Split(value);
        if (names.Length == 0) return $"{option} is empty: give all, or a comma-separated list of: {string.Join(", ", Names)}";
        var unknown = names.FirstOrDefault(name => name != "all" && !Names.Contains(name));
        return unknown is null ? null : $"unknown metric '{unknown}' in {option} (known: {string.Join(", ", Names)}, all)";
    }

    private static string[] Split(string value) => value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
}
