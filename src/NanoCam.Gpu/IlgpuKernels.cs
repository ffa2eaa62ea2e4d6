using ILGPU;
using ILGPU.Runtime;
using NanoCam.Gpu.Kernels;

namespace NanoCam.Gpu;

/// <summary>
/// The kernel set on an ILGPU accelerator (CUDA, OpenCL or ILGPU's CPU simulator). Tensors live in device memory
/// (<see cref="GpuBuffer"/>) and stay there between kernels; launches are asynchronous on the default stream, and a
/// copy to the host (<see cref="TensorBuffer.CopyTo"/>) waits for them. One partial file per op family; the kernels
/// themselves are static methods in Kernels/, loaded once per accelerator by <see cref="KernelCache"/>.
/// </summary>
public sealed partial class IlgpuKernels : IKernels, IDisposable
{
    private readonly KernelCache _kernels;
    private readonly bool _ownsDevice;
    private GpuBuffer? _scratch;
    private readonly MemoryBuffer1D<int, Stride1D.Dense> _badRow;
    private readonly int _reduceGroupSize;

    /// <summary>
    /// Uses <paramref name="device"/>; disposes it with this kernel set when <paramref name="ownsDevice"/>.
    /// <paramref name="tiled"/> picks the shared-memory tiled GEMM and convolution (default: on GPUs, not on the CPU
    /// accelerator, where each group barrier is an OS-thread rendezvous and the direct kernels are far faster).
    /// </summary>
    public IlgpuKernels(IlgpuDevice device, bool ownsDevice = false, bool? tiled = null)
    {
        Device = device;
        UsesTiledKernels = tiled ?? device.Accelerator.AcceleratorType != AcceleratorType.CPU;
        if (UsesTiledKernels && device.Accelerator.MaxNumThreadsPerGroup < IlgpuDevice.TiledGroupSize)
            throw new ArgumentException($"the tiled kernels need groups of {IlgpuDevice.TiledGroupSize} threads; {device.Description} allows {device.Accelerator.MaxNumThreadsPerGroup}");
        _reduceGroupSize = BlockReduce.GroupSize(device.Accelerator.MaxNumThreadsPerGroup);
        _ownsDevice = ownsDevice;
        _kernels = new KernelCache(device.Accelerator);
        _badRow = device.Accelerator.Allocate1D<int>(1);
    }

    /// <summary>Opens "cuda", "opencl" or "ilgpu-cpu" (see <see cref="IlgpuDevice.Create"/>) and owns it.</summary>
    public static IlgpuKernels Create(string device, bool? tiled = null) => new(IlgpuDevice.Create(device), ownsDevice: true, tiled);

    public IlgpuDevice Device { get; }

    /// <summary>Whether GEMM and the convolution forward run as shared-memory tiled kernels (else one thread per output).</summary>
    public bool UsesTiledKernels { get; }

    public string Name => "ilgpu-" + (Device.Name == "ilgpu-cpu" ? "cpu" : Device.Name);

    private Accelerator Accelerator => Device.Accelerator;

    /// <summary>Waits for every launched kernel.</summary>
    public void Synchronize() => Accelerator.Synchronize();

    // ---- storage ----

    public Tensor Allocate(Shape shape) => new(shape, new GpuBuffer(Accelerator, shape.Size));

    public void Fill(Tensor tensor, float value)
    {
        if (tensor.Size > 0) _kernels.Fill(tensor.Size, View(tensor), value);
    }

    public void Copy(Tensor destination, Tensor source)
    {
        SameSize(destination, source, "copy");
        if (source.Size > 0) _kernels.Copy(source.Size, View(destination), View(source));
    }

    public void AddScaled(Tensor destination, Tensor source, float scale)
    {
        SameSize(destination, source, "add-scaled");
        if (source.Size > 0) _kernels.AddScaled(source.Size, View(destination), View(source), scale);
    }

    /// <summary>One reduction group per line (row, channel) of the accelerator's reduction group size.</summary>
    private KernelConfig Reduce(int groups) => BlockReduce.Config(groups, _reduceGroupSize);

    /// <summary>A tensor's device memory as a kernel argument; a host tensor here is a bug at an edge, so it is named.</summary>
    private static ArrayView<float> View(Tensor tensor) => tensor.Buffer is GpuBuffer gpu
        ? gpu.View(tensor.Size)
        : throw new InvalidOperationException($"tensor {tensor.Name ?? tensor.Shape.ToString()} lives on the host but the ILGPU kernels need it on the device: allocate it with the kernel set and copy into its buffer");

    /// <summary>An optional tensor's view, or a one-element placeholder the kernel will not touch (it is told by a flag).</summary>
    private ArrayView<float> ViewOrNone(Tensor? tensor) => tensor is null ? Scratch(1) : View(tensor);

    /// <summary>Device scratch of at least <paramref name="length"/> floats, grown on demand and reused, so steady state allocates nothing.</summary>
    private ArrayView<float> Scratch(int length)
    {
        if (_scratch is null || _scratch.Length < length)
        {
            _scratch?.Dispose();
            _scratch = new GpuBuffer(Accelerator, Math.Max(length, 256));
        }
        return _scratch.View(length);
    }

    private static void SameSize(Tensor a, Tensor b, string op)
    {
        if (a.Size != b.Size) throw new ArgumentException($"{op}: {a.Shape} and {b.Shape} differ in size");
    }

    public void Dispose()
    {
        _scratch?.Dispose();
        _badRow.Dispose();
        if (_ownsDevice) Device.Dispose();
    }
}
