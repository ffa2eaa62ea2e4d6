using System.Runtime.Intrinsics;

namespace NanoCam.Elementwise;

/// <summary>
/// An <see cref="IVectorUnaryFunction"/> whose derivative has a vector body too, for the functions where it is cheap:
/// the SIMD backend's unary backward then runs dx += f'(x, y)·dy in vector lanes (within a few ulp of the scalar
/// <see cref="IUnaryFunction.Derivative"/>).
/// </summary>
public interface IVectorUnaryGradient : IVectorUnaryFunction
{
    /// <summary>dy/dx at sixteen lanes of x, given y = f(x).</summary>
    Vector512<float> Derivative(Vector512<float> x, Vector512<float> y);

    /// <summary>dy/dx at eight lanes of x, given y = f(x).</summary>
    Vector256<float> Derivative(Vector256<float> x, Vector256<float> y);
}
