using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;

namespace NanoCam.Core.Tests;

/// <summary>The CPU backends every autodiff test runs on; a test takes the backend's name as its theory data.</summary>
public static class TestBackends
{
    public static TheoryData<string> Names => ["naive", "simd"];

    // Two threads so the chunked (per-image) and threaded-GEMM paths both run.
    private static readonly SimdKernels Simd = new(threads: 2);

    public static IKernels Get(string name) => name switch
    {
        "naive" => NaiveKernels.Instance,
        "simd" => Simd,
        _ => throw new ArgumentException($"unknown backend {name}"),
    };
}
