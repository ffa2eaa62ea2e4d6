using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using NanoCam.Benchmarks;

// Every benchmark class in this assembly; pick with --filter (see benchmarks/README.md). The GFLOP/s column (and, for
// the explanation benchmarks, the Overhead and × forward columns) is added
// here so that every run, whatever its filter or job, reports it next to Mean and Allocated.
// `step-profile` instead prints where the training step's time goes, kernel by kernel (StepProfile);
// `model-profile` prints where an imported model's forward pass goes, kernel by kernel and shape by shape (ModelProfile);
// `torchvision-zoo` checks the exported full-size torchvision classifiers against PyTorch (TorchvisionZoo);
// `method-latency-estimate` times one call of every method-latency case and says how long that class's run will take.
// Each tool's bad arguments or unreadable files end in one line and exit code 2.
(string Name, Func<string[], int> Run)[] tools =
[
    ("step-profile", StepProfile.Run),
    ("model-profile", ModelProfile.Run),
    ("torchvision-zoo", TorchvisionZoo.Run),
];
foreach (var (name, run) in tools)
{
    if (args.Length == 0 || args[0] != name) continue;
    try
    {
        return run(args[1..]);
    }
    catch (Exception e) when (e is ArgumentException or IOException or FormatException)
    {
        Console.Error.WriteLine($"{name}: error: {e.Message}");
        return 2;
    }
}
if (args.Length > 0 && args[0] == "method-latency-estimate")
    return NanoCam.Benchmarks.Explain.MethodLatencyEstimate.Run(args[1..]);
var config = DefaultConfig.Instance.AddColumn(GflopsColumn.Instance, OverheadColumn.Absolute, OverheadColumn.Relative);
BenchmarkSwitcher.FromAssembly(typeof(GflopsColumn).Assembly).Run(args, config);
return 0;
