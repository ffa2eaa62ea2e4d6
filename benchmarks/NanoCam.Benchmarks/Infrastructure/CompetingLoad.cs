using System.Diagnostics;

namespace NanoCam.Benchmarks.Infrastructure;

/// <summary>
/// The loaded-machine variant: with NANOCAM_BENCH_LOAD=1, a benchmark's GlobalSetup starts one separate OS process
/// that spins on a core for as long as the benchmark process lives (a shell busy loop that also stops when its parent
/// is gone), and GlobalCleanup kills it, so 1 and 2 threads are measured with a competitor on the cores.
/// </summary>
internal static class CompetingLoad
{
    public const string Variable = "NANOCAM_BENCH_LOAD";

    private static Process? s_spinner;

    /// <summary>Whether this run asked for the competing process.</summary>
    public static bool Requested => Environment.GetEnvironmentVariable(Variable) is "1";

    /// <summary>Starts the busy-loop process when <see cref="Requested"/> and none is running; idempotent.</summary>
    public static void Start()
    {
        if (!Requested || s_spinner is { HasExited: false }) return;
        var start = new ProcessStartInfo("sh") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        // kill -0 is a shell builtin: every iteration checks that the benchmark process is still there.
        start.ArgumentList.Add($"while kill -0 {Environment.ProcessId} 2>/dev/null; do :; done");
        s_spinner = Process.Start(start) ?? throw new InvalidOperationException($"{Variable}=1: could not start the busy-loop process (sh)");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Stop();
        Console.WriteLine($"// {Variable}=1: busy-loop process {s_spinner.Id} started beside the measurement");
    }

    /// <summary>Kills the busy-loop process, if one runs.</summary>
    public static void Stop()
    {
        var spinner = Interlocked.Exchange(ref s_spinner, null);
        if (spinner is null) return;
        int id = spinner.Id;
        if (!spinner.HasExited)
        {
            spinner.Kill();
            spinner.WaitForExit();
        }
        spinner.Dispose();
        Console.WriteLine($"// {Variable}=1: busy-loop process {id} stopped");
    }
}
