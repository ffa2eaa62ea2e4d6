using System.Numerics.Tensors;
using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd.Gemm;
using NanoCam.Cpu.Threading;

namespace NanoCam.Cpu.Simd;

/// <summary>
/// The fast CPU backend: packed, cache-blocked GEMM with an AVX-512 (8×48) or AVX2 (6×16) FMA micro-kernel;
/// convolution forward as implicit GEMM (patches packed straight from the image), backward through im2col + GEMM
/// (1×1 stride-1 convolutions skip im2col); element-wise work through TensorPrimitives and Vector256 loops; every
/// heavy kernel split across a fixed thread pool. Ops whose cost is negligible in a CNN (softmax over classes,
/// cross-entropy, dropout masks, general broadcasting) run the naive reference code, so there is one
/// definition of their arithmetic. One instance serves one thread of control at a time (it owns scratch buffers).
/// </summary>
public sealed unsafe partial class SimdKernels : IKernels, IDisposable
{
    private static readonly NaiveKernels Reference = NaiveKernels.Instance;
    private readonly CpuThreadPool _pool;
    private readonly IPackedGemm _gemm;
    private readonly GemmWorkspace _workspace = new();

    /// <param name="threads">Worker threads, the caller included (default: every core). One thread is fully deterministic.</param>
    /// <param name="microKernel">The GEMM register tile (default: the widest the CPU runs in hardware).</param>
    /// <param name="serialWork">
    /// Multiply-adds (or 16 per element of a memory-bound pass) below which a kernel call runs on the calling thread
    /// alone (default <see cref="CpuThreadPool.DefaultSerialWork"/>; 0 splits every call, as tests of the split paths do).
    /// </param>
    public SimdKernels(int threads = 0, MicroKernelChoice microKernel = MicroKernelChoice.Auto, long serialWork = CpuThreadPool.DefaultSerialWork)
    {
        _pool = new CpuThreadPool(threads <= 0 ? Environment.ProcessorCount : threads, serialWork);
        MicroKernel = PackedGemm.Resolve(microKernel);
        _gemm = PackedGemm.Create(MicroKernel);
    }

    public string Name => "simd";

    public int Threads => _pool.Threads;

    /// <summary>Kernel loops so far handed to the helper threads (the rest ran on the calling thread alone): a diagnostic.</summary>
    public long SplitLoops => _pool.SplitLoops;

    /// <summary>Split kernel loops so far that waited for a helper which had lost its core, each followed by a back-off to the calling thread alone: a diagnostic.</summary>
    public long HeldUpLoops => _pool.HeldUpLoops;

    /// <summary>The micro-kernel every GEMM and convolution of this instance runs.</summary>
    public MicroKernelChoice MicroKernel { get; }

    public Tensor Allocate(Shape shape) => Tensor.Zeros(shape);

    public unsafe void Fill(Tensor tensor, float value)
    {
        fixed (float* data = tensor.Data)
            RunSplit(SplitPass.Fill, tensor.Size, tensor.Size, data, null, null, value);
    }

    public void Copy(Tensor destination, Tensor source)
    {
        Check.SameSize(destination, source, "copy");
        source.Span.CopyTo(destination.Span);
    }

    public void AddScaled(Tensor destination, Tensor source, float scale)
    {
        Check.SameSize(destination, source, "add-scaled");
        TensorPrimitives.MultiplyAdd(source.Span, scale, destination.Span, destination.Span);
    }

    public void Dispose() => _pool.Dispose();
}
