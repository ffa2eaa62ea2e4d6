namespace NanoCam.Elementwise;

/// <summary>
/// An <see cref="IUnaryFunction"/> that also computes y = f(x) on a whole vector of lanes: the SIMD backend's unary
/// kernel takes this path (<see cref="Lanes512"/> where the CPU runs AVX-512 in hardware, else <see cref="Lanes256"/>)
/// for the functions that implement it, and the scalar <see cref="IUnaryFunction.Value"/> for the rest.
/// </summary>
/// <remarks>
/// The body is written once, generic over the width (<see cref="IFloatLanes{TLanes}"/>). A vector value may differ from
/// the scalar one by a few units in the last place (each implementation states its bound, measured in the SIMD kernel
/// tests against a double-precision reference); it keeps the scalar function's NaN, ±∞ and signed-zero behaviour. Each
/// lane's result depends on that lane alone, so a tail padded with zeros is fine.
/// </remarks>
public interface IVectorUnaryFunction : IUnaryFunction
{
    /// <summary>y = f(x) on every lane.</summary>
    TLanes VectorValue<TLanes>(TLanes x) where TLanes : struct, IFloatLanes<TLanes>;
}
