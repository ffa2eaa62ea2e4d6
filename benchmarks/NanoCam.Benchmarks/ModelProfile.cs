using System.Diagnostics;
using System.Globalization;
using NanoCam.Autodiff;
using NanoCam.Benchmarks.Infrastructure;
using NanoCam.Cpu.Simd;
using NanoCam.Onnx;

namespace NanoCam.Benchmarks;

/// <summary>
/// `model-profile --model NAME [--threads T] [--passes N] [--warmup W] [--serial-work U] [--no-fuse]`: the no-grad forward pass of
/// <see cref="ModelZooBenchmarks"/> on one imported model (a name of <see cref="ZooModels.Discover"/>, e.g.
/// zoo/mnasnet0_5), first timed alone (mean and fastest pass), then with every kernel call timed
/// (<see cref="KernelTimer"/>): one line per kernel and input shape, slowest first, and the share of the pass spent
/// outside kernels (the executor's own work). --serial-work sets <see cref="SimdKernels"/>' split threshold (multiply-adds)
/// to try another. The figures to quote come from BenchmarkDotNet; this says where they go.
/// </summary>
public static class ModelProfile
{
    public static int Run(string[] args)
    {
        string model = Text(args, "--model") ?? throw new ArgumentException("--model NAME is required (squeezenet1.1, zoo/NAME or full/NAME)");
        int threads = Option(args, "--threads", 1), passes = Option(args, "--passes", 200), warmup = Option(args, "--warmup", 50);
        string path = ZooModels.PathOf(model);
        if (!File.Exists(path)) throw new ArgumentException($"{path} is absent");
        var onnx = OnnxModel.Load(path);
        onnx.Fuse = !args.Contains("--no-fuse");
        var input = ZooModels.InputFor(path, onnx);
        using var simd = new SimdKernels(threads, serialWork: Option(args, "--serial-work", (int)Cpu.Threading.CpuThreadPool.DefaultSerialWork));

        var plainTape = new Tape(simd) { GradEnabled = false };
        for (int i = 0; i < warmup; i++) { plainTape.Reset(); onnx.Run(plainTape, input); }
        var (mean, fastest) = Time(() => { plainTape.Reset(); onnx.Run(plainTape, input); }, passes);

        var timed = KernelTimer.Wrap(simd);
        var tape = new Tape(timed) { GradEnabled = false };
        for (int i = 0; i < warmup; i++) { tape.Reset(); onnx.Run(tape, input); }
        var timer = KernelTimer.Of(timed);
        timer.Clear();
        var (timedMean, _) = Time(() => { tape.Reset(); onnx.Run(tape, input); }, passes);
        double kernels = timer.Timings.Values.Sum(t => t.TotalMs) / passes;
        Console.WriteLine($"{model}, {(onnx.Fuse ? "fused" : "unfused")}, {threads} thread(s), {passes} passes after {warmup}: " +
            $"mean {mean:F3} ms, fastest {fastest:F3} ms; with kernels timed {timedMean:F3} ms, of it kernels {kernels:F3} ms " +
            $"({timer.Timings.Values.Sum(t => t.Calls) / (double)passes:0} calls a pass); loops split {simd.SplitLoops}, held up {simd.HeldUpLoops}");
        Console.WriteLine($"{"ms/pass",9} {"share",6} {"calls",5} {"fastest",8}  kernel and first tensor's shape");
        foreach (var (name, t) in timer.Timings.OrderByDescending(kv => kv.Value.TotalMs))
            Console.WriteLine($"{t.TotalMs / passes,9:F4} {t.TotalMs / passes / kernels,6:P1} {t.Calls / (double)passes,5:0.#} {t.FastestMs,8:F4}  {name}");
        return 0;
    }

    private static (double Mean, double Fastest) Time(Action pass, int passes)
    {
        double fastest = double.MaxValue;
        var all = Stopwatch.StartNew();
        for (int i = 0; i < passes; i++)
        {
            long start = Stopwatch.GetTimestamp();
            pass();
            fastest = Math.Min(fastest, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        return (all.Elapsed.TotalMilliseconds / passes, fastest);
    }

    private static string? Text(string[] args, string name)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }

    private static int Option(string[] args, string name, int fallback)
    {
        if (Text(args, name) is not { } text) return Array.IndexOf(args, name) < 0 ? fallback : throw new ArgumentException($"{name} needs a positive whole number");
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value > 0) return value;
        throw new ArgumentException($"{name} needs a positive whole number");
    }
}
