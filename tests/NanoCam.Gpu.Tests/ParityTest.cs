using NanoCam.Cpu.Naive;

namespace NanoCam.Gpu.Tests;

/// <summary>
/// The base of every kernel family's parity tests: runs one operation on the naive CPU backend and on an ILGPU
/// accelerator from the same starting tensors and compares what it wrote. Subclasses bind the accelerator, so the same
/// tests run on ILGPU's CPU accelerator here and on CUDA or OpenCL through <c>gpu-check</c>.
/// </summary>
public abstract class ParityTest(string device)
{
    protected static readonly NaiveKernels Naive = NaiveKernels.Instance;

    protected IlgpuKernels Gpu { get; } = TestDevices.Get(device);

    /// <summary>A host tensor of uniform values in [−1, 1).</summary>
    protected static Tensor Random(Random rng, params int[] dims)
    {
        var t = Tensor.Zeros(dims);
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = (float)(rng.NextDouble() * 2 - 1);
        return t;
    }

    protected static Tensor Host(float[] values, params int[] dims) => Tensor.FromArray(values, dims);

    /// <summary>A device copy of a host tensor.</summary>
    protected Tensor Upload(Tensor host)
    {
        var t = Gpu.Allocate(host.Shape);
        t.Buffer.CopyFrom(host.Span);
        return t;
    }

    /// <summary>
    /// Runs <paramref name="op"/> on copies of <paramref name="arguments"/> on both backends (null stays null) and compares
    /// the arguments at <paramref name="written"/>. Backward kernels accumulate, so the gradients start non-zero to test "+=".
    /// Error measure: max |gpu − naive| / (1 + max |naive|) per tensor — relative to the tensor's scale, since the two
    /// backends sum in different orders and an element near zero after cancellation has no meaningful relative error.
    /// </summary>
    protected void Agree(string what, float tolerance, Tensor?[] arguments, Action<IKernels, Tensor?[]> op, params int[] written)
    {
        var onHost = arguments.Select(a => a is null ? null : Tensor.FromArray(a.ToArray(), a.Shape.ToArray())).ToArray();
        var onDevice = arguments.Select(a => a is null ? null : Upload(a)).ToArray();
        op(Naive, onHost);
        op(Gpu, onDevice);
        foreach (int i in written) AssertClose(onHost[i]!, onDevice[i]!, tolerance, $"{what} [argument {i}]");
    }

    protected static void AssertClose(Tensor expected, Tensor actual, float tolerance, string what)
    {
        var e = expected.ToArray();
        var a = actual.ToArray();
        Assert.Equal(e.Length, a.Length);
        double scale = 1 + e.Where(float.IsFinite).Select(v => (double)MathF.Abs(v)).DefaultIfEmpty(0).Max(), worst = 0;
        int at = -1;
        for (int i = 0; i < e.Length; i++)
        {
            if (e[i].Equals(a[i])) continue;   // equal, NaN and ±∞ included
            double error = Math.Abs(e[i] - (double)a[i]) / scale;
            if (!(error <= worst)) (worst, at) = (error, i);
        }
        ParityLog.Record(what, worst, tolerance);
        Assert.True(worst <= tolerance, $"{what}: element {at}: naive {(at >= 0 ? e[at] : 0):G8}, ilgpu {(at >= 0 ? a[at] : 0):G8}, scaled error {worst:E2} > {tolerance:E1}");
    }
}
