using System.CommandLine;

namespace NanoCam.Cli.Shared;

/// <summary>Options shared by several verbs, each with its default shown in --help.</summary>
public static class CliOptions
{
    public static Option<T> Make<T>(string name, string description, T defaultValue) =>
        new(name) { Description = description, DefaultValueFactory = _ => defaultValue };

    public static Option<T> Required<T>(string name, string description) =>
        new(name) { Description = description, Required = true };

    public static Option<string> Device() => Make("--device", $"where kernels run: {Backends.DeviceHelp}", "cpu");

    public static Option<int> Threads() => Make("--threads", "CPU threads (0 = every core; 1 = bit-reproducible)", 0);
}
