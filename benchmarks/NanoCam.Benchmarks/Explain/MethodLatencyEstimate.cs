using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using NanoCam.Explain;

namespace NanoCam.Benchmarks.Explain;

/// <summary>
/// `method-latency-estimate [--threads T] [--case-overhead S] [--networks a,b] [--methods a,b] [--skip a,b]`: one timed call of every case of
/// <see cref="MethodLatencyBenchmarks"/> and <see cref="MaskedMethodLatencyBenchmarks"/> at T threads (after one untimed
/// call), in this process, and how long the BenchmarkDotNet run of both classes will take from it: per case, S seconds
/// (process start, model load, BenchmarkDotNet's own stages) plus the calls it makes — the jitting call, the warm-ups and
/// the measured iterations its class fixes. The cases at the other thread count are
/// counted at the same call time (an upper bound when T = 1). --networks, --methods and --skip time a subset (the total is then
/// that subset's). A rough figure, to choose the job settings; the latency
/// figures themselves come from the BenchmarkDotNet run.
/// </summary>
public static class MethodLatencyEstimate
{
    public static int Run(string[] args)
    {
        var only = Option(args, "--methods", "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var skip = Option(args, "--skip", "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var networks = Option(args, "--networks", "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        int threads = int.Parse(Option(args, "--threads", "1"), CultureInfo.InvariantCulture);
        double caseOverhead = double.Parse(Option(args, "--case-overhead", "1"), CultureInfo.InvariantCulture);
        int threadCounts = 2; // MethodLatencyBase's Threads: 1, 2
        double total = 0;
        int cases = 0;
        Console.WriteLine($"{"network",-11} {"method",-24} {"1st call",10} {"2nd call",10} {"case (s)",9}");
        foreach (var type in new[] { typeof(MethodLatencyBenchmarks), typeof(MaskedMethodLatencyBenchmarks) })
        {
            int warmups = type.GetCustomAttribute<WarmupCountAttribute>() is { } w ? (int)w.Config.GetJobs().Single().Run.WarmupCount : 0;
            int iterations = (int)type.GetCustomAttribute<IterationCountAttribute>()!.Config.GetJobs().Single().Run.IterationCount;
            int callsPerCase = 1 + warmups + iterations; // BenchmarkDotNet 0.15 counts allocations in the measured iterations: no extra call
            var methods = (IEnumerable<string>)type.GetProperty("Methods", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
            foreach (var network in LatencyNetworks.Available().Where(n => networks.Length == 0 || networks.Contains(n)))
            {
                var (model, input) = LatencyNetworks.Load(network);
                var kernels = new SimdKernels(threads);
                var explainer = new CamExplainer(model, kernels);
                foreach (var method in methods.Where(m => (only.Length == 0 || only.Contains(m)) && !skip.Contains(m)))
                {
                    if (LatencyNetworks.WhyNot(network, method) is { } why)
                    {
                        Console.WriteLine($"{network,-11} {method,-24} skipped: {why}");
                        continue;
                    }
                    double first, second;
                    try
                    {
                        first = Time(() => CamBenchmarkNetwork.Run(explainer, method, input));
                        second = Time(() => CamBenchmarkNetwork.Run(explainer, method, input));
                    }
                    catch (Exception e) when (e is ArgumentException or InvalidOperationException or NotSupportedException)
                    {
                        Console.WriteLine($"{network,-11} {method,-24} fails: {e.Message}");
                        continue;
                    }
                    double seconds = caseOverhead + callsPerCase * second / 1000;
                    total += threadCounts * seconds;
                    cases += threadCounts;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{network,-11} {method,-24} {first,8:F1}ms {second,8:F1}ms {seconds,9:F1}"));
                }
                SimdLifetime.Release(kernels);
            }
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{cases} cases (threads 1 and 2, each counted at this run's {threads}-thread call time, {caseOverhead} s per case besides its calls): about {total / 60:F1} min"));
        return 0;
    }

    private static double Time(Func<float> call)
    {
        long start = Stopwatch.GetTimestamp();
        GC.KeepAlive(call());
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    private static string Option(string[] args, string name, string fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}
