namespace NanoCam;

/// <summary>Storage of a tensor's elements: host memory here, device memory in the GPU backend.</summary>
public abstract class TensorBuffer
{
    /// <summary>Capacity in elements.</summary>
    public abstract int Length { get; }

    /// <summary>Copies the first <paramref name="destination"/>.Length elements to host memory.</summary>
    public abstract void CopyTo(Span<float> destination);

    /// <summary>Copies host memory into the first <paramref name="source"/>.Length elements.</summary>
    public abstract void CopyFrom(ReadOnlySpan<float> source);
}

/// <summary>A tensor buffer in managed host memory.</summary>
public sealed class CpuBuffer : TensorBuffer
{
    public CpuBuffer(float[] array) => Array = array;

    public float[] Array { get; }

    public override int Length => Array.Length;

    public override void CopyTo(Span<float> destination) => Array.AsSpan(0, destination.Length).CopyTo(destination);

    public override void CopyFrom(ReadOnlySpan<float> source) => source.CopyTo(Array);
}
