using System.Diagnostics;

namespace NanoCam.Cli.Tests;

/// <summary>
/// <c>nanocam serve … --port 0</c> in a child process, as a user starts it: the URL is read from its first stdout line,
/// and <see cref="Stop"/> sends SIGTERM (what Ctrl-C or a service manager sends) and waits for a clean exit.
/// </summary>
internal sealed class ServeProcess : IDisposable
{
    private readonly Process _process;
    private readonly Task<string> _stderr;

    /// <summary>The shared SqueezeNet and the flags its raw 0–255 BGR input needs.</summary>
    public static string SqueezeNet => Path.Combine(CliHarness.SharedData, "models", "SqueezeNet_fp32_from_fp16.onnx");

    public static readonly string[] SqueezeNetPreprocessing = ["--channel-order", "bgr", "--scale", "255", "--mean", "none", "--std", "none"];

    public static string Image(string name) => Path.Combine(CliHarness.SharedData, "images", name);

    private ServeProcess(Process process, string url)
    {
        _process = process;
        Url = new Uri(url);
        _stderr = process.StandardError.ReadToEndAsync();
    }

    /// <summary>The address the server printed (http://127.0.0.1:PORT/).</summary>
    public Uri Url { get; }

    public static ServeProcess Start(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "nanocam.dll"));
        info.ArgumentList.Add("serve");
        info.ArgumentList.Add("--port");
        info.ArgumentList.Add("0");
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["NO_COLOR"] = "1";
        var process = Process.Start(info)!;
        var firstLine = process.StandardOutput.ReadLineAsync();
        if (!firstLine.Wait(TimeSpan.FromMinutes(2)) || firstLine.Result is not { } line || !line.StartsWith("http://", StringComparison.Ordinal))
        {
            process.Kill(true);
            throw new InvalidOperationException($"nanocam serve printed no URL: '{(firstLine.IsCompleted ? firstLine.Result : "(nothing)")}'; stderr: {process.StandardError.ReadToEnd()}");
        }
        _ = process.StandardOutput.ReadToEndAsync(); // keep the pipe drained
        return new ServeProcess(process, line.Trim());
    }

    /// <summary>SIGTERM, then the exit code (the process is killed and −1 returned when it has not exited in time).</summary>
    public int Stop(TimeSpan? limit = null)
    {
        if (_process.HasExited) return _process.ExitCode;
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill.WaitForExit();
        if (_process.WaitForExit(limit ?? TimeSpan.FromSeconds(30))) return _process.ExitCode;
        _process.Kill(true);
        return -1;
    }

    public bool HasExited => _process.HasExited;

    /// <summary>What the server wrote to stderr (complete once it has exited).</summary>
    public string Stderr => _stderr.IsCompleted ? _stderr.Result : "(still running)";

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(true);
        _process.Dispose();
    }
}
