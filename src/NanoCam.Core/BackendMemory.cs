using System.Runtime.CompilerServices;

namespace NanoCam;

/// <summary>
/// The host/device edge of a kernel set. Data enters the engine as host tensors (loader batches, decoded images); on a
/// backend whose tensors live on a device they are copied in here, once, and everything after stays on the device.
/// On a host backend every call is a no-op that allocates nothing.
/// </summary>
public static class BackendMemory
{
    private static readonly ConditionalWeakTable<IKernels, StrongBox<bool>> Probed = new();

    /// <summary>Whether <paramref name="kernels"/>' tensors are host arrays (probed once per kernel set with a one-element allocation).</summary>
    public static bool AllocatesOnHost(this IKernels kernels)
    {
        if (Probed.TryGetValue(kernels, out var known)) return known.Value;
        bool onHost = kernels.Allocate(new Shape(1)).IsOnHost;
        Probed.AddOrUpdate(kernels, new StrongBox<bool>(onHost));
        return onHost;
    }

    /// <summary>
    /// <paramref name="tensor"/> in <paramref name="kernels"/>' memory: itself when it already is there, else a copy in
    /// <paramref name="staging"/>, which is reused while the shape stays the same (so a training loop copies, never allocates).
    /// </summary>
    public static Tensor Stage(this IKernels kernels, Tensor tensor, ref Tensor? staging)
    {
        if (tensor.IsOnHost == kernels.AllocatesOnHost()) return tensor;
        if (staging is null || !staging.Shape.Equals(tensor.Shape)) staging = kernels.Allocate(tensor.Shape);
        if (tensor.IsOnHost) staging.Buffer.CopyFrom(tensor.Span);
        else staging.Buffer.CopyFrom(tensor.ToArray());
        return staging;
    }

    /// <summary><see cref="Stage(IKernels, Tensor, ref Tensor?)"/> into a fresh tensor (for one-off inputs).</summary>
    public static Tensor Stage(this IKernels kernels, Tensor tensor)
    {
        Tensor? staging = null;
        return kernels.Stage(tensor, ref staging);
    }
}
