using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;

namespace NanoCam.Cli.Shared;

/// <summary>Picks the kernel set for --device and --threads.</summary>
public static class Backends
{
    public const string DeviceHelp = "cpu (SIMD kernels, the default), naive (scalar reference kernels)";

    public static IKernels Create(string device, int threads) => device switch
    {
        "cpu" or "simd" => new SimdKernels(threads),
        "naive" => NaiveKernels.Instance,
        "cuda" or "opencl" or "ilgpu-cpu" => throw new ArgumentException($"device '{device}' is not available in this build: the ILGPU backend is not implemented yet (use --device cpu)"),
        _ => throw new ArgumentException($"unknown device '{device}' (known: {DeviceHelp})"),
    };
}
