using System.Runtime.Intrinsics;

namespace NanoCam.Elementwise;

/// <summary>
/// An <see cref="IUnaryFunction"/> that also computes y = f(x) on a whole vector of lanes: the SIMD backend's unary
/// kernel takes this path (Vector512 where the CPU runs it in hardware, else Vector256) for the functions that
/// implement it, and the scalar <see cref="IUnaryFunction.Value"/> for the rest and for backward.
/// </summary>
/// <remarks>
/// A vector value may differ from the scalar one by a few units in the last place (each implementation states its
/// bound, measured in the SIMD kernel tests against a double-precision reference); it keeps the scalar function's
/// NaN, ±∞ and signed-zero behaviour. Each lane's result depends on that lane alone, so a tail padded with zeros is fine.
/// </remarks>
public interface IVectorUnaryFunction : IUnaryFunction
{
    /// <summary>y = f(x) on sixteen lanes.</summary>
    Vector512<float> Value(Vector512<float> x);

    /// <summary>y = f(x) on eight lanes.</summary>
    Vector256<float> Value(Vector256<float> x);
}
