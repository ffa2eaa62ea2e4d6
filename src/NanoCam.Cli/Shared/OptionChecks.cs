namespace NanoCam.Cli.Shared;

/// <summary>Range checks for option values, each refusal one line that names the option, the range and the value given.</summary>
public static class OptionChecks
{
    public static int AtLeast(int value, int minimum, string option) =>
        value >= minimum ? value : throw new ArgumentException($"{option} must be at least {minimum}, got {value}");

    public static float Positive(float value, string option) =>
        float.IsFinite(value) && value > 0 ? value : throw new ArgumentException($"{option} must be a positive number, got {Show(value)}");

    public static float NotNegative(float value, string option) =>
        float.IsFinite(value) && value >= 0 ? value : throw new ArgumentException($"{option} must be 0 or a positive number, got {Show(value)}");

    private static string Show(float value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
