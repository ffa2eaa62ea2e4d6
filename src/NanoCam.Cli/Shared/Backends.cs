using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;
using NanoCam.Gpu;

namespace NanoCam.Cli.Shared;

/// <summary>Picks the kernel set for --device and --threads.</summary>
public static class Backends
{
    public const string DeviceHelp = "cpu (SIMD kernels, the default), naive (scalar reference kernels), cuda or opencl (ILGPU on a GPU), ilgpu-cpu (ILGPU's CPU simulator, for testing)";

    /// <summary>The kernel set; an ILGPU device that is not present fails with one line that says why.</summary>
    public static IKernels Create(string device, int threads)
    {
        OptionChecks.AtLeast(threads, 0, "--threads");
        return device switch
        {
            "cpu" or "simd" => new SimdKernels(threads),
            "naive" => NaiveKernels.Instance,
            "cuda" or "opencl" or "ilgpu-cpu" => IlgpuKernels.Create(device),
            _ => throw new ArgumentException($"unknown device '{device}' (known: {DeviceHelp})"),
        };
    }
}
