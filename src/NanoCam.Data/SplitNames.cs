namespace NanoCam.Data;

/// <summary>The dataset split names accepted everywhere: "train" and "test" (with "val"/"validation"/"eval" read as "test").</summary>
public static class SplitNames
{
    public const string Train = "train";
    public const string Test = "test";

    public static string Normalize(string split) => split?.Trim().ToLowerInvariant() switch
    {
        "train" or "training" => Train,
        "test" or "t10k" or "val" or "validation" or "eval" => Test,
        _ => throw new ArgumentException($"unknown split '{split}'; valid splits: train, test", nameof(split)),
    };
}
