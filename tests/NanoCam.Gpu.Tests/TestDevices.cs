namespace NanoCam.Gpu.Tests;

/// <summary>One ILGPU kernel set per device name for the whole test process, so each kernel compiles once per accelerator.</summary>
public static class TestDevices
{
    private static readonly Dictionary<string, IlgpuKernels> Opened = [];
    private static readonly Lock Gate = new();

    public static IlgpuKernels Get(string device)
    {
        lock (Gate)
        {
            if (!Opened.TryGetValue(device, out var kernels)) Opened[device] = kernels = IlgpuKernels.Create(device);
            return kernels;
        }
    }
}

/// <summary>Largest error each comparison saw, for the gpu-check table (tests assert; this only records).</summary>
public static class ParityLog
{
    private static readonly List<(string What, double Error, double Tolerance)> Entries = [];

    public static void Record(string what, double error, double tolerance)
    {
        lock (Entries) Entries.Add((what, error, tolerance));
    }

    /// <summary>Returns and forgets what was recorded since the last call.</summary>
    public static List<(string What, double Error, double Tolerance)> Drain()
    {
        lock (Entries)
        {
            var copy = Entries.ToList();
            Entries.Clear();
            return copy;
        }
    }
}
