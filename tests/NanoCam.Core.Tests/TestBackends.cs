using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;

namespace NanoCam.Core.Tests;

/// <summary>The CPU backends every autodiff test runs on; a test takes the backend's name as its theory data.</summary>
public static class TestBackends
{
    public static TheoryData<string> Names => ["naive", "simd"];

    // Two threads so the chunked (per-image) and threaded-GEMM paths both run. One kernel set per test thread: xunit runs
    // test classes in parallel, and a kernel set's scratch buffers serve one caller at a time.
    private static readonly ThreadLocal<SimdKernels> Simd = new(() => new SimdKernels(threads: 2));

    public static IKernels Get(string name) => name switch
    {
        "naive" => NaiveKernels.Instance,
        "simd" => Simd.Value!,
        _ => throw new ArgumentException($"unknown backend {name}"),
    };
}
