
namespace NanoCam.Benchmarks.Infrastructure;

/// <summary>Creates and releases the SIMD backend for one benchmark case.</summary>
internal static class SimdLifetime
{
    /// <summary>
    /// Stops the worker threads. A one-thread backend has none, and CpuThreadPool.Dispose currently throws for it
    /// (SemaphoreSlim.Release(0)), so it is simply dropped; the process ends with the case anyway.
    /// </summary>
    public static void Release(SimdKernels? kernels)
    {
        if (kernels is { Threads: > 1 }) kernels.Dispose();
    }
}
