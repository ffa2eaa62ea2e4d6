namespace NanoCam.Explain.Targets;

/// <summary>The range checks the targets share, as one-line messages that name the model's output.</summary>
internal static class TargetChecks
{
    /// <summary><paramref name="index"/> when it is in 0…count − 1; otherwise an <see cref="ArgumentException"/> naming the output's size.</summary>
    public static int Index(int index, int count, string what) =>
        (uint)index < (uint)count ? index
        : throw new ArgumentException($"{what} {index} is out of range: the model's output has {count} value{(count == 1 ? "" : "s")} per image (0–{count - 1})");

    /// <summary>An output shape as people write it: [3, 64, 64].</summary>
    public static string Shape(IReadOnlyList<int> dims) => $"[{string.Join(", ", dims)}]";
}
