namespace NanoCam.Cpu.Tests;

/// <summary>Allocation checks shared by the kernel tests' "0 B after warm-up" facts.</summary>
internal static class WarmAllocations
{
    /// <summary>
    /// The fewest bytes any of three calls allocated on this thread, after one warm-up call: scratch allocated per call
    /// shows in every call, while the runtime's own occasional work on this thread (tiered re-compilation, lock inflation
    /// on a loaded machine: 7 KB once in a full-solution run) does not fail a test.
    /// </summary>
    public static long Fewest(Action call)
    {
        call();
        long fewest = long.MaxValue;
        for (int i = 0; i < 3; i++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            call();
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return fewest;
    }
}
