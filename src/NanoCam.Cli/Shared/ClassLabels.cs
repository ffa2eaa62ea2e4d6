namespace NanoCam.Cli.Shared;

/// <summary>How a class is named in titles and captions: its index, and its name only when the name says more than the index.</summary>
public static class ClassLabels
{
    /// <summary>" (name)" for class <paramref name="index"/>, or "" when there are no names or the name is the index itself (MNIST's "7").</summary>
    public static string NameSuffix(int index, IReadOnlyList<string>? names) =>
        names is not null && index >= 0 && index < names.Count && names[index].Trim() is { Length: > 0 } name && name != index.ToString(System.Globalization.CultureInfo.InvariantCulture)
            ? $" ({name})"
            : "";

    /// <summary>"class 7" or "class 2 (triangle)": the class said once.</summary>
    public static string Describe(int index, IReadOnlyList<string>? names) => $"class {index}{NameSuffix(index, names)}";
}
