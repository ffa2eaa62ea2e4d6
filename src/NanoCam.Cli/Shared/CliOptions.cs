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

    /// <summary>--model: the network to load, required.</summary>
    public static PathOption Model() => Path("--model", "a NanoCam checkpoint (.safetensors) or an .onnx file", PathRole.Model, required: true);

    /// <summary>--labels: a class-name file for an ONNX model, checked to exist.</summary>
    public static PathOption Labels() => Path("--labels", "class names, one per line (or a JSON array), for ONNX models", PathRole.InputFile);

    /// <summary>--colormap, "jet" by default; <paramref name="what"/> starts its description.</summary>
    public static Option<string> ColorMap(string what = "colour map") => Make("--colormap", $"{what}: {string.Join(", ", Imaging.ColorMaps.Names)}", "jet");
}
