using ILGPU;
using NanoCam.Elementwise;

namespace NanoCam.Gpu.Kernels;

/// <summary>
/// The generic element-wise kernels, one thread per element, generic over the operator struct (ILGPU compiles one
/// kernel per struct, with its Value/Derivative inlined; the struct's fields travel by value as a kernel argument).
/// Loaded once per accelerator and struct type by <see cref="KernelCache"/>. The formulas are the naive backend's.
/// </summary>
internal static class FunctionKernels
{
    public static void Unary<TOp>(Index1D i, ArrayView<float> y, ArrayView<float> x, TOp op) where TOp : struct, IUnaryFunction =>
        y[i] = op.Value(x[i]);

    /// <summary>dx += f'(x, y) · dy.</summary>
    public static void UnaryBackward<TOp>(Index1D i, ArrayView<float> dx, ArrayView<float> dy, ArrayView<float> x, ArrayView<float> y, TOp op)
        where TOp : struct, IUnaryFunction =>
        dx[i] += op.Derivative(x[i], y[i]) * dy[i];

    public static void Binary<TOp>(Index1D i, ArrayView<float> y, ArrayView<float> a, ArrayView<float> b, BroadcastIndex map, TOp op)
        where TOp : struct, IBinaryFunction
    {
        map.Offsets(i, out int ia, out int ib);
        y[i] = op.Value(a[ia], b[ib]);
    }

    /// <summary>
    /// dA[ia] += ∂f/∂a · dy and dB[ib] += ∂f/∂b · dy; a broadcast operand receives from many threads, so its sum goes
    /// through an atomic add, one of output size is written directly.
    /// </summary>
    public static void BinaryBackward<TOp>(Index1D i, ArrayView<float> dA, ArrayView<float> dB, ArrayView<float> dy,
        ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, BroadcastIndex map, BinaryTargets targets, TOp op)
        where TOp : struct, IBinaryFunction
    {
        map.Offsets(i, out int ia, out int ib);
        float av = a[ia], bv = b[ib], yv = y[i], g = dy[i];
        if (targets.HasA != 0)
        {
            float ga = op.DerivativeA(av, bv, yv) * g;
            if (targets.DirectA != 0) dA[ia] += ga;
            else Atomic.Add(ref dA[ia], ga);
        }
        if (targets.HasB != 0)
        {
            float gb = op.DerivativeB(av, bv, yv) * g;
            if (targets.DirectB != 0) dB[ib] += gb;
            else Atomic.Add(ref dB[ib], gb);
        }
    }

    /// <summary>y = c ≠ 0 ? a : b.</summary>
    public static void Select(Index1D i, ArrayView<float> y, ArrayView<float> condition, ArrayView<float> a, ArrayView<float> b) =>
        y[i] = condition[i] != 0 ? a[i] : b[i];

    /// <summary>dA += c ≠ 0 ? dy : 0, dB += c ≠ 0 ? 0 : dy; a flag per gradient says whether it is written.</summary>
    public static void SelectBackward(Index1D i, ArrayView<float> dA, ArrayView<float> dB, ArrayView<float> dy, ArrayView<float> condition, int hasA, int hasB)
    {
        if (condition[i] != 0) { if (hasA != 0) dA[i] += dy[i]; }
        else if (hasB != 0) dB[i] += dy[i];
    }
}
