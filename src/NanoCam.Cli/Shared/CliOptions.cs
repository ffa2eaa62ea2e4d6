using System.CommandLine;

namespace NanoCam.Cli.Shared;

/// <summary>Options shared by several verbs, each with its default shown in --help.</summary>
public static class CliOptions
{
    public static Option<T> Make<T>(string name, string description, T defaultValue) =>
        new(name) { Description = description, DefaultValueFactory = _ => defaultValue };

    public static Option<T> Required<T>(string name, string description) =>
        new(name) { Description = description, Required = true };

    /// <summary>An option naming a file or folder, checked by <see cref="CliRunner"/> before the verb runs (see <see cref="PathRole"/>).</summary>
    public static PathOption Path(string name, string description, PathRole role, string? defaultValue = null, bool required = false)
    {
        var option = new PathOption(name, role) { Description = description, Required = required };
        if (defaultValue is not null) option.DefaultValueFactory = _ => defaultValue;
        return option;
    }

    public static Option<string> Device() => Make("--device", $"where kernels run: {Backends.DeviceHelp}", "cpu");

    public static Option<int> Threads() => Make("--threads", "CPU threads (0 = every core; 1 = bit-reproducible)", 0);
}
