using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.NoEmit;
using NanoCam.Benchmarks;
using NanoCam.Benchmarks.Infrastructure;
using NanoCam.GpuCheck;

// nanocam-gpucheck parity [--device cuda|opencl|ilgpu-cpu]
// nanocam-gpucheck bench  [--device cuda|opencl|ilgpu-cpu] [BenchmarkDotNet arguments, e.g. --filter '*Ilgpu*']
// The benchmarks run in this process (a published single-file binary cannot build BenchmarkDotNet's child projects).
if (args.Length == 0 || args[0] is not ("parity" or "bench"))
{
    Console.Error.WriteLine("usage: nanocam-gpucheck parity|bench [--device cuda|opencl|ilgpu-cpu] [benchmark arguments]");
    return 2;
}
string device = "cuda";
var rest = new List<string>();
for (int i = 1; i < args.Length; i++)
{
    if (args[i] == "--device" && i + 1 < args.Length) device = args[++i];
    else rest.Add(args[i]);
}
try
{
    if (args[0] == "parity") return ParityRunner.Run(device, Console.Out) == 0 ? 0 : 1;
    Environment.SetEnvironmentVariable("NANOCAM_ILGPU_DEVICE", device);
    var config = DefaultConfig.Instance.AddColumn(GflopsColumn.Instance)
        .AddJob(Job.Default.WithToolchain(InProcessNoEmitToolchain.Instance).AsDefault());
    BenchmarkSwitcher.FromAssembly(typeof(IlgpuGemmBenchmarks).Assembly).Run([.. rest], config);
    return 0;
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"nanocam-gpucheck: error: {e.Message}");
    return 1;
}
