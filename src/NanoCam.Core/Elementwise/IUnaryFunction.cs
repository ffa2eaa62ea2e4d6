namespace NanoCam.Elementwise;

/// <summary>An element-wise function y = f(x) with its derivative: one struct per function, run by each backend's generic unary kernel.</summary>
/// <remarks>
/// Implementations are readonly structs whose parameters are fields set by the constructor (no reference-type fields):
/// ILGPU passes the struct by value into its generic kernels, and the CPU backends' loops get it inlined by the JIT.
/// Only <see cref="Value"/> and <see cref="Derivative"/> run inside kernels; they may use float and double arithmetic,
/// <see cref="MathF"/> / <see cref="Math"/> Exp, Log, Sqrt, Tanh, Pow, Floor, Ceiling, Abs, Min, Max, CopySign, and
/// <see cref="ScalarMath"/>.
/// </remarks>
public interface IUnaryFunction
{
    /// <summary>The operation's name, the kind of the tape node that runs it ("Tanh", "Gelu", …); never read inside a kernel.</summary>
    string Name { get; }

    /// <summary>y = f(x).</summary>
    float Value(float x);

    /// <summary>dy/dx at x, given y = Value(x) (so a function can reuse its output: Exp' = y, Tanh' from y, …).</summary>
    float Derivative(float x, float y);
}
