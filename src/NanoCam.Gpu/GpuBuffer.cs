using ILGPU;
using ILGPU.Runtime;

namespace NanoCam.Gpu;

/// <summary>A tensor buffer in an ILGPU accelerator's memory; host code reaches it only through CopyTo/CopyFrom.</summary>
public sealed class GpuBuffer : TensorBuffer, IDisposable
{
    private readonly Accelerator _accelerator;

    public GpuBuffer(Accelerator accelerator, int length)
    {
        _accelerator = accelerator;
        // ILGPU cannot allocate zero elements on every backend; a one-element buffer stands in for an empty tensor.
        Memory = accelerator.Allocate1D<float>(Math.Max(1, length));
        Memory.MemSetToZero();
        Length = length;
    }

    /// <summary>The device memory (capacity ≥ Length).</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Memory { get; }

    public override int Length { get; }

    /// <summary>The first <paramref name="length"/> elements as a kernel argument.</summary>
    public ArrayView<float> View(int length) => Memory.View.SubView(0, Math.Max(1, length));

    public override void CopyTo(Span<float> destination)
    {
        if (destination.Length == 0) return;
        _accelerator.Synchronize();
        Memory.View.SubView(0, destination.Length).CopyToCPU(_accelerator.DefaultStream, destination);
        _accelerator.DefaultStream.Synchronize();
    }

    public override void CopyFrom(ReadOnlySpan<float> source)
    {
        if (source.Length == 0) return;
        _accelerator.Synchronize();
        Memory.View.SubView(0, source.Length).CopyFromCPU(_accelerator.DefaultStream, source);
        _accelerator.DefaultStream.Synchronize();
    }

    public void Dispose() => Memory.Dispose();
}
