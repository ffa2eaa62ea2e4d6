using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace NanoCam.Gpu;

/// <summary>
/// An ILGPU context and one accelerator: "cuda" (the first NVIDIA GPU), "opencl" (the first OpenCL device ILGPU accepts)
/// or "ilgpu-cpu" (ILGPU's CPU accelerator, which simulates GPU threads, groups, shared memory and barriers on the host).
/// </summary>
public sealed class IlgpuDevice : IDisposable
{
    /// <summary>The names <see cref="Create"/> accepts.</summary>
    public static readonly string[] Names = ["cuda", "opencl", "ilgpu-cpu"];

    /// <summary>
    /// Threads per group of the simulated CPU device by default: ILGPU's own default (4 warps of 4). Every simulated
    /// thread is an OS thread and every launch a rendezvous of them, so fewer threads launch much faster; the tiled
    /// kernels (16×16 groups) need <see cref="TiledGroupSize"/>.
    /// </summary>
    public const int DefaultSimulatedGroupSize = 16;

    /// <summary>Threads per group the shared-memory tiled GEMM and convolution use.</summary>
    public const int TiledGroupSize = 256;

    private IlgpuDevice(string name, Context context, Accelerator accelerator)
    {
        Name = name;
        Context = context;
        Accelerator = accelerator;
    }

    /// <summary>"cuda", "opencl" or "ilgpu-cpu".</summary>
    public string Name { get; }

    public Context Context { get; }

    public Accelerator Accelerator { get; }

    /// <summary>The accelerator's own name, e.g. "NVIDIA H200" or "CPUAccelerator".</summary>
    public string Description => Accelerator.Name;

    /// <summary>Creates the asked device or throws an ArgumentException that says why it is not present.</summary>
    /// <paramref name="simulatedGroupSize"/> sizes the groups of ILGPU's CPU accelerator (a multiple of 4); GPUs ignore it.
    public static IlgpuDevice Create(string name, int simulatedGroupSize = DefaultSimulatedGroupSize)
    {
        switch (name)
        {
            case "ilgpu-cpu":
            {
                var simulated = new CPUDevice(numThreadsPerWarp: 4, numWarpsPerMultiprocessor: Math.Max(1, simulatedGroupSize / 4), numMultiprocessors: 1);
                var context = Context.Create(b => b.CPU(simulated).EnableAlgorithms());
                return new IlgpuDevice(name, context, context.GetDevices<CPUDevice>()[0].CreateAccelerator(context));
            }
            case "cuda":
            {
                var context = Context.Create(b => b.Cuda().EnableAlgorithms());
                var devices = context.GetDevices<CudaDevice>();
                if (devices.Count == 0)
                {
                    context.Dispose();
                    throw new ArgumentException("device 'cuda' is not present: ILGPU found no CUDA device (no NVIDIA GPU or no CUDA driver, libcuda, on this machine); use --device cpu or ilgpu-cpu");
                }
                return new IlgpuDevice(name, context, devices[0].CreateAccelerator(context));
            }
            case "opencl":
            {
                // ILGPU accepts only OpenCL devices with generic address space support (OpenCL 2.0 or
                // __opencl_c_generic_address_space in 3.0); it leaves the others out of its device list.
                var context = Context.Create(b => b.OpenCL().EnableAlgorithms());
                var devices = context.GetDevices<CLDevice>();
                if (devices.Count == 0)
                {
                    var all = CLDevice.GetDevices(_ => true);
                    context.Dispose();
                    string why = all.Length == 0
                        ? "no OpenCL platform or device was found (no ICD loader or driver installed)"
                        : $"ILGPU refused {string.Join(", ", all.OfType<CLDevice>().Select(d => $"'{d.Name}' (OpenCL C {d.CVersion})"))}: it needs an OpenCL device with generic address space support, which e.g. Debian's PoCL 3.1 does not report";
                    throw new ArgumentException($"device 'opencl' is not present: {why}; use --device cpu or ilgpu-cpu");
                }
                return new IlgpuDevice(name, context, devices[0].CreateAccelerator(context));
            }
            default:
                throw new ArgumentException($"unknown ILGPU device '{name}' (known: {string.Join(", ", Names)})");
        }
    }

    public void Dispose()
    {
        Accelerator.Dispose();
        Context.Dispose();
    }
}
