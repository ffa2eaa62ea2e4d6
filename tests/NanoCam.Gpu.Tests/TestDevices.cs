namespace NanoCam.Gpu.Tests;

/// <summary>
/// One ILGPU device and kernel set per name for the whole test process, so each kernel compiles once per accelerator.
/// A name is "cuda", "opencl" or "ilgpu-cpu", optionally with "/tiled" or "/direct" to force the GEMM and convolution
/// variant (by default the tiled kernels run on GPUs and the direct ones on the CPU accelerator).
/// </summary>
public static class TestDevices
{
    private static readonly Dictionary<string, IlgpuDevice> Devices = [];
    private static readonly Dictionary<string, IlgpuKernels> Opened = [];
    private static readonly Lock Gate = new();

    public static IlgpuKernels Get(string name)
    {
        lock (Gate)
        {
            if (Opened.TryGetValue(name, out var kernels)) return kernels;
            var parts = name.Split('/');
            bool? tiled = parts.Length == 1 ? null : parts[1] == "tiled";
            // The tiled kernels' 16×16 groups need a simulated CPU device with wide groups; a GPU has them anyway.
            string key = parts[0] + (tiled == true ? "/wide" : "");
            if (!Devices.TryGetValue(key, out var device))
                Devices[key] = device = IlgpuDevice.Create(parts[0], tiled == true ? IlgpuDevice.TiledGroupSize : IlgpuDevice.DefaultSimulatedGroupSize);
            return Opened[name] = new IlgpuKernels(device, ownsDevice: false, tiled);
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
