using System.Diagnostics;
using System.Reflection;

namespace NanoCam.Benchmarks.Infrastructure;

/// <summary>
/// An <see cref="IKernels"/> that times every call of the kernel set it wraps, by method and first tensor's shape
/// ("Conv2dForward [64, 128, 7, 7]"): where a training step's time goes, kernel by kernel. A diagnostic, not a
/// benchmark: each call costs about a microsecond more and allocates its argument array.
/// </summary>
public class KernelTimer : DispatchProxy
{
    private IKernels _inner = null!;
    private readonly Dictionary<string, Timing> _timings = [];

    /// <summary>One kernel's record: calls, total and fastest milliseconds.</summary>
    public sealed class Timing
    {
        public int Calls;
        public double TotalMs;
        public double FastestMs = double.MaxValue;
    }

    /// <summary>Wraps <paramref name="inner"/>; read the records from <see cref="Of"/>.</summary>
    public static IKernels Wrap(IKernels inner)
    {
        // A backend's optional capabilities stay visible through the proxy (the ONNX LayerNormalization asks for one).
        var proxy = inner is ILayerNormKernels ? Create<ILayerNormTimedKernels, KernelTimer>() : Create<IKernels, KernelTimer>();
        ((KernelTimer)(object)proxy)._inner = inner;
        return proxy;
    }

    /// <summary>The timer behind a kernel set made by <see cref="Wrap"/>.</summary>
    public static KernelTimer Of(IKernels wrapped) => (KernelTimer)(object)wrapped;

    public IReadOnlyDictionary<string, Timing> Timings => _timings;

    public void Clear() => _timings.Clear();

    protected override object? Invoke(MethodInfo? method, object?[]? args)
    {
        string key = method!.Name;
        foreach (var arg in args ?? [])
            if (arg is Tensor t)
            {
                key += " " + t.Shape;
                break;
            }
        long start = Stopwatch.GetTimestamp();
        object? result;
        try
        {
            result = method.Invoke(_inner, args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
        double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        if (!_timings.TryGetValue(key, out var timing)) _timings[key] = timing = new Timing();
        timing.Calls++;
        timing.TotalMs += ms;
        timing.FastestMs = Math.Min(timing.FastestMs, ms);
        return result;
    }
}

/// <summary>The interfaces a <see cref="KernelTimer"/> presents for a backend with the one-kernel layer normalization.</summary>
public interface ILayerNormTimedKernels : IKernels, ILayerNormKernels;
