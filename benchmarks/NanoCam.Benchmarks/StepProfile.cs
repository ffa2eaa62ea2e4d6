using System.Diagnostics;
using System.Globalization;

namespace NanoCam.Benchmarks;

/// <summary>
/// `step-profile [--threads T] [--steps N] [--warmup W]`: the GAP-CNN training step of <see cref="TrainingStepBenchmarks"/>
/// on the SIMD kernels, every kernel call timed (<see cref="KernelTimer"/>); prints the step's mean and fastest time
/// and one line per kernel, slowest first: mean ms per step, calls per step, fastest call. The speed figures to quote
/// come from BenchmarkDotNet (`TrainingStepBenchmarks`); this says where they go.
/// </summary>
public static class StepProfile
{
    public static int Run(string[] args)
    {
        int threads = Option(args, "--threads", 1), steps = Option(args, "--steps", 100), warmup = Option(args, "--warmup", 60);
        using var simd = new SimdKernels(threads);
        var timed = KernelTimer.Wrap(simd);
        var step = new GapCnnStep(timed);
        for (int i = 0; i < warmup; i++) step.Run();
        var timer = KernelTimer.Of(timed);
        timer.Clear();
        double fastest = double.MaxValue;
        var all = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++)
        {
            long start = Stopwatch.GetTimestamp();
            step.Run();
            fastest = Math.Min(fastest, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        double mean = all.Elapsed.TotalMilliseconds / steps, kernels = timer.Timings.Values.Sum(t => t.TotalMs) / steps;
        Console.WriteLine($"GAP-CNN training step, batch {TrainingStepBenchmarks.Batch}, {threads} thread(s), {steps} steps after {warmup}: " +
            $"mean {mean:F3} ms, fastest {fastest:F3} ms, kernels {kernels:F3} ms a step; loops split {simd.SplitLoops}, held up {simd.HeldUpLoops}");
        Console.WriteLine($"{"ms/step",9} {"calls",5} {"fastest",8}  kernel");
        foreach (var (name, t) in timer.Timings.OrderByDescending(kv => kv.Value.TotalMs))
            Console.WriteLine($"{t.TotalMs / steps,9:F3} {t.Calls / (double)steps,5:0.#} {t.FastestMs,8:F3}  {name}");
        return 0;
    }

    private static int Option(string[] args, string name, int fallback)
    {
        int at = Array.IndexOf(args, name);
        if (at < 0) return fallback;
        if (at + 1 < args.Length && int.TryParse(args[at + 1], NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value > 0) return value;
        throw new ArgumentException($"{name} needs a positive whole number");
    }
}
