namespace NanoCam.Elementwise;

/// <summary>
/// An <see cref="IVectorUnaryFunction"/> whose derivative has a vector body too: the SIMD backend's unary backward then
/// runs dx += f'(x, y)·dy in vector lanes (within a few ulp of the scalar <see cref="IUnaryFunction.Derivative"/>).
/// </summary>
public interface IVectorUnaryGradient : IVectorUnaryFunction
{
    /// <summary>dy/dx on every lane of x, given y = f(x).</summary>
    TLanes VectorDerivative<TLanes>(TLanes x, TLanes y) where TLanes : struct, IFloatLanes<TLanes>;
}
