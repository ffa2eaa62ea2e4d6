using System.Diagnostics;

namespace NanoCam.Cli.Tests;

/// <summary>Runs the built nanocam tool in a child process (as a user would) and captures its output.</summary>
internal static class CliHarness
{
    /// <summary>shared/data: NANOCAM_DATA, else the first shared/data folder beside or above the test binaries (CI: ../shared beside the clone).</summary>
    public static string SharedData { get; } = FindSharedData();

    private static string FindSharedData()
    {
        if (Environment.GetEnvironmentVariable("NANOCAM_DATA") is { Length: > 0 } env && Directory.Exists(env)) return Path.GetFullPath(env);
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "data");
            if (Directory.Exists(candidate)) return candidate;
        }
        return Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../../shared/data"));
    }

    /// <summary>The repository root (the test binaries sit in tests/NanoCam.Cli.Tests/bin/CONFIG/TFM/).</summary>
    public static string RepoRoot => Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../"));

    /// <summary>The repository's shipped checkpoints (weights/*.safetensors with their .json).</summary>
    public static string Weights => Path.Combine(RepoRoot, "weights");

    /// <summary>The JSON object a <c>--json</c> run prints as its last line.</summary>
    public static System.Text.Json.JsonDocument LastLineJson(string stdout) => System.Text.Json.JsonDocument.Parse(stdout.TrimEnd().Split('\n')[^1]);

    public static (int ExitCode, string Stdout, string Stderr) Run(params string[] args) => Run(TimeSpan.FromMinutes(5), args);

    public static (int ExitCode, string Stdout, string Stderr) Run(TimeSpan limit, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "nanocam.dll");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["NO_COLOR"] = "1";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(limit)) { process.Kill(true); throw new TimeoutException($"nanocam {string.Join(' ', args)} did not finish in {limit.TotalMinutes:F0} minutes"); }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
