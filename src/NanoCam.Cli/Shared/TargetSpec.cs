using System.Globalization;

namespace NanoCam.Cli.Shared;

/// <summary>
/// What <c>--targets</c> asks to explain for each image: <c>predicted</c> (the top class), <c>true</c> (the label),
/// <c>topk:K</c> (the K best classes, K rows per image and method) or one class by index or name.
/// </summary>
public sealed record TargetSpec(string Text, TargetSpec.Kind What, int Value)
{
    /// <summary>The kinds of target.</summary>
    public enum Kind { Predicted, True, TopK, Class }

    /// <summary>The valid forms, as messages and --help name them.</summary>
    public const string ValidForms = "predicted, true, topk:K or a class (index or name)";

    /// <summary>Targets per image.</summary>
    public int PerImage => What == Kind.TopK ? Value : 1;

    /// <summary>The target column's value for target <paramref name="t"/> of an image: predicted, true, top1…topK or class.</summary>
    public string Label(int t) => What switch
    {
        Kind.Predicted => "predicted",
        Kind.True => "true",
        Kind.TopK => $"top{t + 1}",
        _ => "class",
    };

    public static TargetSpec Parse(string text, int classes, IReadOnlyList<string>? classNames)
    {
        string value = text.Trim();
        if (value == "predicted") return new(value, Kind.Predicted, 0);
        if (value == "true") return new(value, Kind.True, 0);
        if (value.StartsWith("topk:", StringComparison.Ordinal))
        {
            if (!int.TryParse(value[5..], NumberStyles.None, CultureInfo.InvariantCulture, out int k) || k < 1 || k > classes)
                throw new ArgumentException($"--targets '{text}': K must be a whole number in 1…{classes} (the model has {classes} classes)");
            return new(value, Kind.TopK, k);
        }
        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int index))
            return index < classes ? new(value, Kind.Class, index)
                : throw new ArgumentException($"--targets '{text}': class {index} is out of range, the model has {classes} classes (0–{classes - 1})");
        int named = classNames is null ? -1 : classNames.ToList().IndexOf(value);
        if (named >= 0) return new(value, Kind.Class, named);
        throw new ArgumentException($"--targets '{text}' is not {ValidForms}" + (classNames is null ? "" : $"; the classes are {string.Join(", ", classNames.Take(12))}{(classNames.Count > 12 ? ", …" : "")}"));
    }
}
